package queues

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// hub is the fan-out of one queue to its live watchers. The store tells of
// an append on the sender's path (its committer closes a channel), so only
// the hub — one goroutine per followed queue — waits on the store's
// Notify: the append wakes one goroutine whatever the number of watchers.
// The hub then wakes the queue's idle watchers one by one, each holding a
// turn of the manager's gate, so that only as many watchers are runnable
// as the gate has turns, and the rest of the CPU stays free for senders.
// Appends that come while the hub is still waking are folded into the next
// round: a watcher reads everything new from its own position when it
// comes back. An idle watcher is an entry in a list and a parked
// goroutine: it costs no CPU.
//
// The hub's goroutine runs while the queue has watchers and stops with the
// last one.
type hub struct {
	mu    sync.Mutex
	users int
	quit  chan struct{} // closed when the last watcher leaves
	gen   atomic.Uint64 // rounds begun; changed under mu
	idle  []*parking    // watchers waiting for the next round
}

// parking is a watcher waiting for the hub. Exactly one of the hub (which
// then hands it a turn of the gate) and the watcher (which gives up: its
// query ended, the queue went away) moves it out of parked.
type parking struct {
	state atomic.Int32
	wake  chan struct{} // receives one token when the hub wakes it
}

const (
	parked int32 = iota
	woken
	gone
)

// attach registers a watcher of key in store, starting the hub's goroutine
// for the first one; the returned func detaches it. closed ends the hub
// when the queue goes away.
func (h *hub) attach(store Store, key string, g gate, closed <-chan struct{}) (detach func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users == 0 {
		// The store's channel is taken before the round is numbered: an
		// append after a watcher's read closes it, and the hub then
		// begins a round that wakes the watcher.
		note := store.Notify(key)
		h.gen.Add(1)
		h.quit = make(chan struct{})
		go h.run(store, key, g, note, h.quit, closed)
	}
	h.users++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.users--; h.users == 0 {
			close(h.quit)
			h.idle = nil
		}
	}
}

// round returns the number of the current round. Take it before reading
// and pass it to park, and no event is missed.
func (h *hub) round() uint64 { return h.gen.Load() }

// park waits until the hub wakes the watcher for a round after gen: ok
// says whether the watcher goes on (false: stop1 or stop2 ended it), held
// whether it holds a turn of the gate, which it then gives back after its
// read. If a round after gen has begun already, park returns at once
// (read again) without a turn.
func (h *hub) park(p *parking, gen uint64, g gate, stop1, stop2 <-chan struct{}) (ok, held bool) {
	h.mu.Lock()
	if h.gen.Load() != gen {
		h.mu.Unlock()
		return true, false
	}
	p.state.Store(parked)
	h.idle = append(h.idle, p)
	h.mu.Unlock()
	select {
	case <-p.wake:
		return true, true
	case <-stop1:
	case <-stop2:
	}
	if p.state.CompareAndSwap(parked, gone) {
		return false, false
	}
	// The hub woke it at the same moment: give its turn back.
	<-p.wake
	g.leave()
	return false, false
}

func (h *hub) run(store Store, key string, g gate, note <-chan struct{}, quit, closed <-chan struct{}) {
	for {
		select {
		case <-note:
		case <-quit:
			return
		case <-closed:
			return
		}
		// The next store channel is taken before the round begins, so an
		// append made while the watchers read is seen by the next one.
		note = store.Notify(key)
		h.mu.Lock()
		if h.quit != quit {
			// The last watcher left and a new one started another run:
			// the round is that run's.
			h.mu.Unlock()
			return
		}
		h.gen.Add(1)
		list := h.idle
		h.idle = nil
		h.mu.Unlock()
		for _, p := range list {
			select {
			case g <- struct{}{}:
			case <-quit:
				return
			case <-closed:
				return
			}
			if !p.state.CompareAndSwap(parked, woken) {
				g.leave()
				continue
			}
			p.wake <- struct{}{}
		}
	}
}

// gate bounds how many watchers read and decode events at once. After an
// append every watcher of the queue has work; were they all runnable at
// once, each step of the sender's path (its goroutine, the committer,
// badger's writer) would queue behind them for the CPU. Through the gate
// they take turns, each reading everything new since its last turn, while
// the rest of the CPU stays free for senders. What a watcher does with its
// events (a VQL query's work on its rows, a raw watcher's write to its
// client) takes a turn on a lease, given back when it runs out: that work
// may wait (on a slow client), and would then hold up every other
// watcher.
type gate chan struct{}

func newGate() gate { return make(gate, max(1, runtime.GOMAXPROCS(0)-1)) }

// do runs fn holding a turn (held says the caller holds one already); it
// returns false, without running fn, if ctx ends first.
func (g gate) do(ctx context.Context, held bool, fn func()) bool {
	if !held {
		select {
		case g <- struct{}{}:
		case <-ctx.Done():
			return false
		}
	}
	defer g.leave()
	fn()
	return true
}

func (g gate) leave() { <-g }

// writeLease is how long a raw watcher may hold a turn while it passes a
// batch on (a write to its client): long enough for a write that does not
// wait, short enough that a client that does not read delays the others
// only that long.
const writeLease = 2 * time.Millisecond

// rowLease is how long a VQL watcher may hold a turn while its query
// works on a chunk of rows.
const rowLease = time.Millisecond

// lease runs fn holding a turn, but gives the turn back after d even if fn
// has not returned; it returns false, without running fn, if ctx ends
// first.
func (g gate) lease(ctx context.Context, d time.Duration, fn func()) bool {
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	var once sync.Once
	leave := func() { once.Do(g.leave) }
	t := time.AfterFunc(d, leave)
	fn()
	t.Stop()
	leave()
	return true
}
