package queues

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/Velocidex/ordereddict"
)

// AlertQueue receives every alert.
const AlertQueue = "Server.Internal.Alerts"

// DefaultAlertDedup is the window in which alerts of the same name (and
// artifact) are sent once.
const DefaultAlertDedup = 2 * time.Hour

// Alert describes one alert() call.
type Alert struct {
	Name     string
	Artifact string // the artifact whose query raised it, if any
	// Dedup is the deduplication window: 0 means DefaultAlertDedup, a
	// negative value turns deduplication off.
	Dedup     time.Duration
	EventData *ordereddict.Dict
	// Principal raised it: the _Source of the alert ("server" when empty).
	Principal string
}

// SendAlert sends an alert to Server.Internal.Alerts unless one of the same
// name and artifact was sent within the window. The window is kept in the
// store, so it holds across queries and restarts. It returns whether the
// alert was sent and, when suppressed, how long ago the last one went.
func (m *Manager) SendAlert(ctx context.Context, org string, al Alert) (sent bool, ago time.Duration, err error) {
	window := al.Dedup
	if window == 0 {
		window = DefaultAlertDedup
	}
	now := m.now()
	key := fmt.Sprintf("alerts/%s/%s\x00%s", org, al.Artifact, al.Name)
	m.alertMu.Lock()
	defer m.alertMu.Unlock()
	if window > 0 {
		if b, ok, err := m.kv.Get(key); err == nil && ok && len(b) == 8 {
			last := time.Unix(0, int64(binary.BigEndian.Uint64(b)))
			if since := now.Sub(last); since < window {
				return false, since, nil
			}
		}
	}
	data := al.EventData
	if data == nil {
		data = ordereddict.NewDict()
	}
	row := ordereddict.NewDict().
		Set("name", al.Name).
		Set("timestamp", now.UTC().Format("2006-01-02T15:04:05.000Z")).
		Set("event_data", data).
		Set("artifact", al.Artifact).
		Set("client_id", "server")
	from := Sender{Principal: al.Principal, Internal: true}
	if from.Principal == "" {
		from.Principal = ServerSender.Principal
	}
	if _, err := m.Send(ctx, org, AlertQueue, row, from); err != nil {
		return false, 0, err
	}
	if err := m.kv.Put(key, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))); err != nil {
		return true, 0, err
	}
	return true, 0, nil
}
