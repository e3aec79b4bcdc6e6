package queues

import (
	"context"
	"errors"
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
	// Consumer names a durable position: the watcher resumes after the
	// last event acknowledged by a watcher of that name. The consumer is
	// recorded, at the position where it joins, when it first attaches.
	// An event is acknowledged when the consuming query asks for the next
	// one (yield returned true and the loop comes back, and, if ctx
	// carries an AckBarrier, once the barrier says the output has it);
	// the event being handed out when the watch stops is not. Rows carry
	// their position in SeqColumn. When the query stops by itself (LIMIT)
	// while holding an event, that event is acknowledged only if ctx
	// carries an AckBarrier that confirms the output has it.
	Consumer string
	// ClientAck leaves the position of a named consumer to the client
	// (Manager.Ack): the watcher never moves it (HTTP watches).
	ClientAck bool
	// After, when set, acknowledges every event up to and including this
	// position before the watch starts (HTTP `after=`, `Last-Event-ID`).
	// A watcher without a consumer starts right after it instead: an
	// EventSource that reconnects with Last-Event-ID gets what it missed,
	// as far as the queue still holds it.
	After *uint64
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
	// OnSkip is told how many unread events of a named consumer expired
	// (retention) before it could read them.
	OnSkip func(n uint64)
}

// SeqColumn is the column that carries, in every row a named consumer
// receives, the event's position in its queue (1, 2, 3 …): a consumer
// that sees a position again after a restart has seen that event.
const SeqColumn = "_seq"

// AckBarrier is what a runner gives a consuming query so that a row is
// acknowledged only once its output has it: it returns once every row
// the query has produced so far is written and flushed, or an error if
// the output failed (the rows were not delivered and must not be
// acknowledged).
type AckBarrier func() error

type ackBarrierKey struct{}

// WithAckBarrier returns a context whose watchers wait for b before they
// acknowledge an event.
func WithAckBarrier(ctx context.Context, b AckBarrier) context.Context {
	return context.WithValue(ctx, ackBarrierKey{}, b)
}

func ackBarrierOf(ctx context.Context) AckBarrier {
	b, _ := ctx.Value(ackBarrierKey{}).(AckBarrier)
	return b
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

// decodeChunk is how many events a VQL watcher passes to its query in one
// turn of the gate.
const decodeChunk = 32

// follow is a watch that has been set up: where it reads from and what it
// must tell whom.
type follow struct {
	m          *Manager
	store      Store
	org, queue string
	key        string
	st         *queueState
	opts       WatchOptions
	next       uint64
}

// start resolves a watch: the queue, the position it starts from
// (consumer, start time, else the end), the store.
func (m *Manager) start(ctx context.Context, org, queue string, opts WatchOptions) (*follow, error) {
	readOwnSends(ctx)
	a, err := m.resolve(org, queue, "watch_monitoring")
	if err != nil {
		return nil, err
	}
	if !a.IsEvent() {
		return nil, fmt.Errorf("watch_monitoring: %s is a %s artifact; only event artifacts have queues", queue, a.Type)
	}
	store := m.storeFor(a)
	key := storeKey(org, queue)
	_, last, err := store.Bounds(key)
	if err != nil {
		return nil, err
	}
	next := last + 1
	if opts.Consumer != "" {
		if next, err = m.attachConsumer(ctx, store, org, queue, opts); err != nil {
			return nil, err
		}
	} else if opts.After != nil {
		next = min(*opts.After+1, last+1)
	} else if !opts.StartTime.IsZero() {
		if next, err = store.SeekTime(ctx, key, opts.StartTime); err != nil {
			return nil, err
		}
	}
	return &follow{m: m, store: store, org: org, queue: queue, key: key, st: m.state(org, queue), opts: opts, next: next}, nil
}

// run hands out the queue's events from f.next on, in order, in batches
// of at most readBatch, and waits for more once caught up. It is listed as
// a watcher of the queue while it runs. idle is called before each wait
// (a consumer acknowledges there); run ends when idle or deliver returns
// false, ctx ends or the queue goes away.
func (f *follow) run(ctx context.Context, idle func() bool, deliver func(w *watcher, evs []Event) bool) {
	st := f.st
	w := &watcher{describe: f.opts.Describe, since: time.Now()}
	w.next.Store(f.next)
	if w.describe == "" {
		w.describe = "watch_monitoring(artifact='" + f.queue + "')"
	}
	st.watchers.Store(w, struct{}{})
	defer st.watchers.Delete(w)
	g := f.m.fanout
	defer st.hub.attach(f.store, f.key, g, st.closed)()
	bounded := f.store.Features().Bounded
	p := &parking{wake: make(chan struct{}, 1)}
	held := false // a turn of the gate, handed over by the hub
	for {
		round := st.hub.round()
		var evs []Event
		var err error
		if !g.do(ctx, held, func() { evs, err = f.store.Read(ctx, f.key, f.next, readBatch) }) || err != nil {
			return
		}
		held = false
		if len(evs) > 0 && evs[0].Seq > f.next {
			f.lost(bounded, evs[0].Seq-f.next)
		}
		if len(evs) > 0 {
			f.next = evs[len(evs)-1].Seq + 1
			if !deliver(w, evs) {
				return
			}
			continue
		}
		if !idle() {
			return
		}
		var ok bool
		if ok, held = st.hub.park(p, round, g, st.closed, ctx.Done()); !ok {
			return
		}
	}
}

// lost counts events that went before the watcher could read them: a
// bounded queue overwrote them, or retention expired a consumer's.
func (f *follow) lost(bounded bool, n uint64) {
	if bounded {
		f.st.dropped.Add(int64(n))
		if f.opts.OnDrop != nil {
			f.opts.OnDrop(n)
		}
	} else if f.opts.Consumer != "" {
		f.m.consumerSkipped(f.org, f.queue, f.opts.Consumer, n)
		if f.opts.OnSkip != nil {
			f.opts.OnSkip(n)
		}
	}
}

// Watch streams the events of an event queue of any type, in order, each
// once. It never ends by itself: cancel ctx (LIMIT, Ctrl-C) to stop it.
// Deleting the artifact ends it.
func (m *Manager) Watch(ctx context.Context, org, queue string, opts WatchOptions) (iter.Seq[*ordereddict.Dict], error) {
	// acks says whether this watcher moves its consumer's position.
	acks := opts.Consumer != "" && !opts.ClientAck
	barrier := ackBarrierOf(ctx)
	// deferred, when set, is a forwarder that acknowledges for the watcher;
	// named, one it tells which event it hands out.
	deferred, named := deferredOf(ctx), namer(ctx)
	if acks && isDetached(ctx) {
		return nil, fmt.Errorf("watch_monitoring: consumer %q of %s: %w", opts.Consumer, queue, ErrDetachedConsumer)
	}
	f, err := m.start(ctx, org, queue, opts)
	if err != nil {
		return nil, err
	}
	return func(yield func(*ordereddict.Dict) bool) {
		if acks && deferred != nil {
			defer m.attachForwarder(org, queue, opts.Consumer, deferred.stats)()
		}
		// done is the position after the last event the query finished
		// with; saved is the position stored (or handed to deferred).
		done, saved := f.next, f.next
		ack := func() bool {
			if !acks || done == saved {
				return true
			}
			if deferred != nil {
				next := done
				deferred.hold(consumerRecordKey(org, queue, opts.Consumer), func() error {
					return m.ackConsumer(f.store, org, queue, opts.Consumer, next)
				})
				saved = done
				return true
			}
			if barrier != nil && barrier() != nil {
				return false
			}
			if m.ackConsumer(f.store, org, queue, opts.Consumer, done) != nil {
				return false
			}
			saved = done
			return true
		}
		defer ack()
		// pass hands one event to the query; false ends the watch.
		pass := func(w *watcher, ev Event) bool {
			// The query asked for this event: it is done with the
			// previous one.
			if !ack() {
				return false
			}
			next := ev.Seq + 1
			w.next.Store(next)
			f.st.delivered.Add(1)
			row := DecodeRow(ev.Data)
			if opts.Consumer != "" {
				row.Set(SeqColumn, int64(ev.Seq))
			}
			if named != nil {
				named.enter(Origin{Queue: queue, Seq: ev.Seq})
			}
			more := yield(row)
			if named != nil {
				named.leave()
			}
			if !more {
				// Stopped while holding ev. It was used only if the query
				// stopped by itself (LIMIT: ctx is live) and its output has
				// everything the query produced (a barrier says so, or a
				// forwarder commits only what it delivered); otherwise
				// that cannot be known, and ev stays unread.
				if (barrier != nil || deferred != nil) && ctx.Err() == nil {
					done = next
				}
				return false
			}
			done = next
			return true
		}
		f.run(ctx, ack, func(w *watcher, evs []Event) bool {
			for len(evs) > 0 {
				chunk := evs[:min(len(evs), decodeChunk)]
				evs = evs[len(chunk):]
				// Decoding and the query's work on the rows take a turn
				// of the gate, on a lease: a query that waits (on its
				// output, on a slow client) holds it no longer than that.
				more := true
				if !m.fanout.lease(ctx, rowLease, func() {
					for _, ev := range chunk {
						if more = pass(w, ev); !more {
							return
						}
					}
				}) || !more {
					return false
				}
			}
			return true
		})
	}, nil
}

// ErrRawAck is returned by WatchEvents for a named consumer whose position
// the watcher itself would have to move: only a client that acknowledges
// (ClientAck) reads raw events.
var ErrRawAck = errors.New("a named consumer read as raw events must be acknowledged by its client")

// WatchEvents is Watch for a reader that passes events on as they are
// stored (an HTTP watcher writes the JSON bytes without decoding them): it
// hands out the events in batches, in order, each once. The batches and
// their Data belong to the store: read them, do not change them. The loop
// body runs holding a turn of the watchers' gate, on a lease: pass the
// batch on (one write) and come back. A named consumer must leave its
// position to the client (ClientAck).
func (m *Manager) WatchEvents(ctx context.Context, org, queue string, opts WatchOptions) (iter.Seq[[]Event], error) {
	if opts.Consumer != "" && !opts.ClientAck {
		return nil, fmt.Errorf("watch %s: consumer %q: %w", queue, opts.Consumer, ErrRawAck)
	}
	f, err := m.start(ctx, org, queue, opts)
	if err != nil {
		return nil, err
	}
	return func(yield func([]Event) bool) {
		f.run(ctx, func() bool { return true }, func(w *watcher, evs []Event) bool {
			w.next.Store(evs[len(evs)-1].Seq + 1)
			f.st.delivered.Add(int64(len(evs)))
			// Passing the batch on is a write to a client: it takes a
			// turn too, so that thousands of writes do not crowd the CPU
			// at once.
			more := false
			return m.fanout.lease(ctx, writeLease, func() { more = yield(evs) }) && more
		})
	}, nil
}

// Source reads the stored events of a disk-backed queue between two times
// (zero means unbounded), in order, and ends.
func (m *Manager) Source(ctx context.Context, org, queue string, start, end time.Time) (iter.Seq[*ordereddict.Dict], error) {
	readOwnSends(ctx)
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
	named := namer(ctx)
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
				// A forwarder names documents after their event, as
				// for a watcher: replaying stored events overwrites.
				if named != nil {
					named.enter(Origin{Queue: queue, Seq: ev.Seq})
				}
				more := yield(DecodeRow(ev.Data))
				if named != nil {
					named.leave()
				}
				if !more {
					return
				}
			}
		}
	}, nil
}
