package queues

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// hub is the fan-out of one queue to its live watchers. The store is told
// of an append by its committer, on the sender's path, so only one
// goroutine per followed queue — the hub's — waits on the store's Notify:
// closing it wakes one goroutine, whatever the number of watchers. The hub
// then closes its own "changed" channel, which every idle watcher of the
// queue waits on, and replaces it. Appends that come while the watchers
// are still busy are folded into one wake: a watcher reads everything new
// from its own position when it comes back. An idle watcher holds no
// goroutine of its own beyond the one waiting, and costs no CPU.
//
// The hub's goroutine runs while the queue has watchers and stops with
// the last one.
type hub struct {
	mu      sync.Mutex
	users   int
	quit    chan struct{} // closed when the last watcher leaves
	changed atomic.Pointer[chan struct{}]
}

// attach registers a watcher of key in store, starting the hub's
// goroutine for the first one; the returned func detaches it. closed ends
// the hub when the queue goes away.
func (h *hub) attach(store Store, key string, closed <-chan struct{}) (detach func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users == 0 {
		// Take the store's channel before any watcher can take ours: an
		// append after a watcher's read closes this, and the hub then
		// closes the channel the watcher waits on.
		note := store.Notify(key)
		ch := make(chan struct{})
		h.changed.Store(&ch)
		h.quit = make(chan struct{})
		go h.run(store, key, note, h.quit, closed)
	}
	h.users++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.users--; h.users == 0 {
			close(h.quit)
		}
	}
}

// wait returns a channel closed by the next append to the queue. As with
// Store.Notify, take it before reading, then wait on it, and no event is
// missed. Only an attached watcher may call it.
func (h *hub) wait() <-chan struct{} { return *h.changed.Load() }

func (h *hub) run(store Store, key string, note <-chan struct{}, quit, closed <-chan struct{}) {
	for {
		select {
		case <-note:
		case <-quit:
			return
		case <-closed:
			return
		}
		// The next store channel is taken before the watchers are woken,
		// so an append made while they read is seen on the next turn.
		note = store.Notify(key)
		ch := make(chan struct{})
		old := h.changed.Swap(&ch)
		close(*old)
	}
}

// gate bounds how many watchers read and decode events at once. After an
// append every watcher of the queue has work; were they all runnable at
// once, each step of the sender's path (its goroutine, the committer,
// badger's writer) would queue behind them for the CPU. Through the gate
// they take turns, each reading everything new since its last turn, while
// the rest of the CPU stays free for senders. What a watcher does with its
// events (the query, writing to a client) runs outside the gate, since it
// may wait on a slow reader.
type gate chan struct{}

func newGate() gate { return make(gate, max(1, runtime.GOMAXPROCS(0)-1)) }

// do runs fn holding a turn; it returns false, without running fn, if ctx
// ends first.
func (g gate) do(ctx context.Context, fn func()) bool {
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-g }()
	fn()
	return true
}
