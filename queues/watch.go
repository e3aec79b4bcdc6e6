package queues

import (
	"context"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/Velocidex/ordereddict"
)

// WatchOptions choose where a watcher starts.
type WatchOptions struct {
	// StartTime replays stored events from this time, then goes on live
	// with no gap and no duplicate.
	StartTime time.Time
	// Consumer names a durable position: the watcher resumes after the last
	// event a watcher of that name handed downstream, and stores its
	// position after each event.
	Consumer string
	// Principal is who watches: a named consumer belongs to the principal
	// that first used it, and no other may read from it or move it…
	Principal string
	// …unless Override is set (an admin, the folder's owner).
	Override bool
	// Describe says who is watching (the query), for queues() and the
	// debug page.
	Describe string
	// OnDrop is told how many events a bounded (INTERNAL) queue overwrote
	// before this watcher could read them.
	OnDrop func(n uint64)
}

// watcher is one running watch, listed in its queue's state.
type watcher struct {
	describe string
	since    time.Time
	next     atomic.Uint64
}

// readBatch is how many events a watcher reads from the store at a time;
// a slow watcher's backlog stays on disk, not in memory.
const readBatch = 256

// Watch streams the events of an event queue of any type, in order, each
// once. It never ends by itself: cancel ctx (LIMIT, Ctrl-C) to stop it.
// Deleting the artifact ends it.
func (m *Manager) Watch(ctx context.Context, org, queue string, opts WatchOptions) (iter.Seq[*ordereddict.Dict], error) {
	a, err := m.resolve(org, queue, "watch_monitoring")
	if err != nil {
		return nil, err
	}
	if !a.IsEvent() {
		return nil, fmt.Errorf("watch_monitoring: %s is a %s artifact; only event artifacts have queues", queue, a.Type)
	}
	store := m.storeFor(a)
	key := storeKey(org, queue)
	st := m.state(org, queue)
	_, last, err := store.Bounds(key)
	if err != nil {
		return nil, err
	}
	next := last + 1
	if opts.Consumer != "" {
		if err := m.claimConsumer(org, queue, opts.Consumer, opts.Principal, opts.Override); err != nil {
			return nil, err
		}
	}
	switch {
	case opts.Consumer != "":
		if pos, ok, err := store.Cursor(key, opts.Consumer); err != nil {
			return nil, err
		} else if ok {
			next = pos
		} else if !opts.StartTime.IsZero() {
			if next, err = store.SeekTime(ctx, key, opts.StartTime); err != nil {
				return nil, err
			}
		}
	case !opts.StartTime.IsZero():
		if next, err = store.SeekTime(ctx, key, opts.StartTime); err != nil {
			return nil, err
		}
	}
	bounded := store.Features().Bounded
	return func(yield func(*ordereddict.Dict) bool) {
		w := &watcher{describe: opts.Describe, since: time.Now()}
		w.next.Store(next)
		if w.describe == "" {
			w.describe = "watch_monitoring(artifact='" + queue + "')"
		}
		st.watchers.Store(w, struct{}{})
		defer st.watchers.Delete(w)
		for {
			wake := store.Notify(key)
			evs, err := store.Read(ctx, key, next, readBatch)
			if err != nil {
				return
			}
			if len(evs) > 0 && evs[0].Seq > next && bounded {
				lost := evs[0].Seq - next
				st.dropped.Add(int64(lost))
				if opts.OnDrop != nil {
					opts.OnDrop(lost)
				}
			}
			for _, ev := range evs {
				next = ev.Seq + 1
				w.next.Store(next)
				st.delivered.Add(1)
				if !yield(decodeRow(ev.Data)) {
					m.saveCursor(store, key, opts.Consumer, next)
					return
				}
				m.saveCursor(store, key, opts.Consumer, next)
			}
			if len(evs) > 0 {
				continue
			}
			select {
			case <-wake:
			case <-st.closed:
				return
			case <-ctx.Done():
				return
			}
		}
	}, nil
}

func (m *Manager) saveCursor(store Store, key, consumer string, next uint64) {
	if consumer != "" {
		_ = store.SetCursor(key, consumer, next)
	}
}

// Source reads the stored events of a disk-backed queue between two times
// (zero means unbounded), in order, and ends.
func (m *Manager) Source(ctx context.Context, org, queue string, start, end time.Time) (iter.Seq[*ordereddict.Dict], error) {
	a, err := m.resolve(org, queue, "source")
	if err != nil {
		return nil, err
	}
	if !a.Persisted() {
		return nil, fmt.Errorf("source: %s is a%s %s artifact; only SERVER_EVENT and CLIENT_EVENT queues are stored", queue, article(string(a.Type)), a.Type)
	}
	key := storeKey(org, queue)
	next, err := m.disk.SeekTime(ctx, key, start)
	if err != nil {
		return nil, err
	}
	_, last, err := m.disk.Bounds(key)
	if err != nil {
		return nil, err
	}
	return func(yield func(*ordereddict.Dict) bool) {
		for next <= last {
			evs, err := m.disk.Read(ctx, key, next, readBatch)
			if err != nil || len(evs) == 0 {
				return
			}
			for _, ev := range evs {
				if ev.Seq > last || (!end.IsZero() && ev.Time.After(end)) {
					return
				}
				next = ev.Seq + 1
				if !yield(decodeRow(ev.Data)) {
					return
				}
			}
		}
	}, nil
}
