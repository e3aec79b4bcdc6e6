package vql

import "sync"

// sessionState holds values plugins and functions keep across the
// statements of one session: cache()'s entries, a named memoize(), a
// fifo()'s rows. It lives exactly as long as the session, so nothing one
// session caches is seen by another (another org, another user).
type sessionState struct {
	mu     sync.Mutex
	values map[string]any
}

// SessionState returns the value kept under key for this session, made
// by mk the first time it is asked for. Keys are namespaced by their
// owner ("cache:" + name, …). mk runs under a lock: it must not call
// SessionState.
func (s *Scope) SessionState(key string, mk func() any) any {
	st := s.rt.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if v, ok := st.values[key]; ok {
		return v
	}
	if st.values == nil {
		st.values = map[string]any{}
	}
	v := mk()
	st.values[key] = v
	return v
}
