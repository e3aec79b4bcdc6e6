package queues

import (
	"context"
	"fmt"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql/value"
)

// Sender says who sends an event: it becomes the row's _Source.
type Sender struct {
	// Principal is "server" for the server's own queries, a token's name
	// for API calls.
	Principal string
	// Internal is set when the server itself sends (alerts, audit logs,
	// flow completions): any event queue is then a valid target.
	Internal bool
}

// ServerSender is the server's own queries sending with send_event().
var ServerSender = Sender{Principal: "server"}

// Send stamps a row with _ts and _Source, stores it in the queue and
// returns the row as stamped, once it is durable. Users (send_event, the
// API) may only send to SERVER_EVENT queues.
func (m *Manager) Send(ctx context.Context, org, queue string, row any, from Sender) (*ordereddict.Dict, error) {
	out, err := m.SendMany(ctx, org, queue, []any{row}, from)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// SendMany is Send for several rows at once: they are stored in one group
// and keep their order.
func (m *Manager) SendMany(ctx context.Context, org, queue string, rows []any, from Sender) ([]*ordereddict.Dict, error) {
	a, err := m.CheckSend(org, queue, from)
	if err != nil {
		return nil, err
	}
	stamped, data, err := m.stamp(rows, from)
	if err != nil {
		return nil, err
	}
	if a.Persisted() {
		m.recordOrg(org)
	}
	if _, err := m.storeFor(a).Append(ctx, storeKey(org, queue), data); err != nil {
		return nil, fmt.Errorf("send_event: %s: %w", queue, err)
	}
	st := m.state(org, queue)
	st.sent.Add(int64(len(rows)))
	st.lastEvent.Store(m.now().UnixNano())
	return stamped, nil
}

// stamp gives each row its _ts and _Source and encodes it, once, for the
// store and every reader.
func (m *Manager) stamp(rows []any, from Sender) ([]*ordereddict.Dict, [][]byte, error) {
	now := m.now()
	stamped := make([]*ordereddict.Dict, len(rows))
	data := make([][]byte, len(rows))
	for i, r := range rows {
		d, ok := r.(*ordereddict.Dict)
		if !ok {
			return nil, nil, fmt.Errorf("send_event: row must be a dict, not %s", value.TypeName(r))
		}
		s := ordereddict.NewDict()
		for _, item := range d.Items() {
			if item.Key == "_ts" || item.Key == "_Source" {
				continue
			}
			s.Set(item.Key, item.Value)
		}
		s.Set("_ts", now.Unix())
		s.Set("_Source", from.Principal)
		b, err := value.EncodeJSON(s)
		if err != nil {
			return nil, nil, fmt.Errorf("send_event: row cannot be encoded: %w", err)
		}
		// The sender keeps s; every watcher decodes its own row from the
		// stored bytes, so no one can change what another sees.
		stamped[i] = s
		data[i] = b
	}
	return stamped, data, nil
}

// CheckSend reports whether a sender may send to a queue, with the error
// text send_event() logs when not.
func (m *Manager) CheckSend(org, queue string, from Sender) (*artifacts.Artifact, error) {
	a, err := m.resolve(org, queue, "send_event")
	if err != nil {
		return nil, err
	}
	if !from.Internal && a.Type != artifacts.TypeServerEvent {
		return nil, fmt.Errorf("send_event: cannot send to %s: it is a%s %s artifact; send_event only sends to SERVER_EVENT queues",
			queue, article(string(a.Type)), a.Type)
	}
	if !a.IsEvent() {
		return nil, fmt.Errorf("send_event: cannot send to %s: it is a %s artifact, which has no queue", queue, a.Type)
	}
	return a, nil
}

// DecodeRow decodes a stored event's data into the row a watcher
// receives (an empty row if the data is not an object).
func DecodeRow(b []byte) *ordereddict.Dict {
	v, err := value.DecodeJSON(b)
	if d, ok := v.(*ordereddict.Dict); ok && err == nil {
		return d
	}
	return ordereddict.NewDict()
}

func article(word string) string {
	if strings.ContainsAny(word[:1], "AEIOU") {
		return "n"
	}
	return ""
}
