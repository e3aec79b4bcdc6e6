package queues

import (
	"context"
	"errors"
	"fmt"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql/value"
)

// ErrNotClientQueue is returned when a client's rows are sent to a queue
// that is not a CLIENT_EVENT artifact's.
var ErrNotClientQueue = errors.New("not a CLIENT_EVENT queue")

// ClientRow is one row a client's source emitted: Seq is the client's
// own number for it, increasing across all its queues.
type ClientRow struct {
	Seq uint64
	Row *ordereddict.Dict
}

// SendFromClient stores rows a client sent for one CLIENT_EVENT queue,
// stamped with ClientId, _Source (the client id) and _ts. Rows the queue
// already holds from this client (a batch retried after a lost answer)
// are dropped by number, atomically with the store's write: it returns
// how many were new. Rows must come in increasing Seq.
func (m *Manager) SendFromClient(ctx context.Context, org, queue, clientID string, rows []ClientRow) (int, error) {
	a, err := m.resolve(org, queue, "client events")
	if err != nil {
		return 0, err
	}
	if a.Type != artifacts.TypeClientEvent {
		return 0, fmt.Errorf("client events: %s is a%s %s artifact: %w", queue, article(string(a.Type)), a.Type, ErrNotClientQueue)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	now := m.now().Unix()
	seqs := make([]uint64, len(rows))
	data := make([][]byte, len(rows))
	for i, r := range rows {
		s := ordereddict.NewDict()
		if r.Row != nil {
			for _, item := range r.Row.Items() {
				switch item.Key {
				case "_ts", "_Source", "ClientId":
					continue // the server's to say
				}
				s.Set(item.Key, item.Value)
			}
		}
		s.Set("ClientId", clientID).Set("_ts", now).Set("_Source", clientID)
		b, err := value.EncodeJSON(s)
		if err != nil {
			return 0, fmt.Errorf("client events: %s: row %d cannot be encoded: %w", queue, r.Seq, err)
		}
		seqs[i], data[i] = r.Seq, b
	}
	m.recordOrg(org)
	evs, err := m.storeFor(a).AppendProduced(ctx, storeKey(org, queue), clientID, seqs, data)
	if err != nil {
		return 0, fmt.Errorf("client events: %s: %w", queue, err)
	}
	if len(evs) > 0 {
		st := m.state(org, queue)
		st.sent.Add(int64(len(evs)))
		st.lastEvent.Store(m.now().UnixNano())
	}
	return len(evs), nil
}
