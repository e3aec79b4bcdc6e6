package vql

import "sync"

// endHooks are what a session's queries leave to be undone when it ends:
// tempfile()'s files, tempdir()'s folders. They belong to the session
// rather than to one statement because artifacts make a temporary file
// in a LET and use it in the next statement (`LET f <= tempfile(…)`).
type endHooks struct {
	mu    sync.Mutex
	hooks []func()
	last  []func()
	done  bool
}

// AtEnd registers fn to run when the session ends (Session.Close). Hooks
// run in reverse order of registration — what was made last is undone
// first — except that those registered with last run after all others
// (tempfile(remove_last=TRUE)). A hook registered after the end runs at
// once.
func (s *Scope) AtEnd(fn func(), last bool) {
	h := s.rt.ends
	h.mu.Lock()
	if h.done {
		h.mu.Unlock()
		fn()
		return
	}
	if last {
		h.last = append(h.last, fn)
	} else {
		h.hooks = append(h.hooks, fn)
	}
	h.mu.Unlock()
}

// Close ends the session: the hooks its queries registered with
// Scope.AtEnd run now. Hosts close a session when its queries are over
// (the command's program, a REPL, an API session). Closing twice does
// nothing more.
func (s *Session) Close() {
	h := s.root.rt.ends
	h.mu.Lock()
	hooks, last := h.hooks, h.last
	h.hooks, h.last, h.done = nil, nil, true
	h.mu.Unlock()
	for i := len(hooks) - 1; i >= 0; i-- {
		hooks[i]()
	}
	for _, fn := range last {
		fn()
	}
}
