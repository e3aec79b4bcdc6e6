package queues

import (
	"context"
	"time"
)

// retainInterval is how often old events are removed.
const retainInterval = time.Hour

// retainLoop removes disk-backed events older than the retention period,
// at start and then every retainInterval.
func (m *Manager) retainLoop() {
	defer m.stopped.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.Retain(context.Background())
			t.Reset(retainInterval)
		}
	}
}

// Retain removes, from every disk-backed queue of every org, the events
// older than the retention period. It returns how many it removed.
func (m *Manager) Retain(ctx context.Context) int {
	cutoff := m.now().Add(-m.retention)
	removed := 0
	for _, org := range m.Orgs() {
		for _, a := range m.repo.List(org) {
			if !a.Persisted() {
				continue
			}
			for _, q := range a.QueueNames() {
				n, _ := m.disk.Trim(ctx, storeKey(org, q), cutoff)
				removed += n
			}
		}
	}
	return removed
}
