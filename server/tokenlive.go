package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// tokenCheckEvery is how often the server checks the tokens of its open
// streams: expired, or revoked in the store without going through it.
const tokenCheckEvery = time.Second

// lastUsedEvery is how often, at most, a token's last use is written to
// the store.
const lastUsedEvery = time.Minute

// ErrTokenRevoked and ErrTokenExpired are the causes of the contexts of
// the long-running requests (watches, queries) the server ends because
// their token stopped being valid.
var (
	ErrTokenRevoked = errors.New("token revoked")
	ErrTokenExpired = errors.New("token expired")
)

// tokenLive is what the server knows of the tokens in use: when each was
// last used, and the long-running requests each has open. Its zero value
// is ready.
type tokenLive struct {
	mu      sync.Mutex
	used    map[string]time.Time // by token ID: the last use seen
	written map[string]time.Time // by token ID: the last use written to the store
	keys    map[string]string    // by token ID: its store key
	open    map[string]*openStreams
	ticking bool
}

// openStreams are the long-running requests of one token.
type openStreams struct {
	key     string
	expires time.Time
	cancels map[*stream]struct{}
}

type stream struct{ cancel context.CancelCauseFunc }

type callerKey struct{}

// withCaller keeps the checked caller in a request's context, for
// requestContext.
func withCaller(r *http.Request, c *caller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}

// track registers a long-running request of the request's token, so that
// revoking the token, or its expiry, ends it. The returned func
// unregisters it.
func (s *Server) track(r *http.Request, cancel context.CancelCauseFunc) func() {
	c, _ := r.Context().Value(callerKey{}).(*caller)
	if c == nil || c.token == nil {
		return func() {}
	}
	t := c.token
	l := &s.live
	st := &stream{cancel: cancel}
	l.mu.Lock()
	if l.open == nil {
		l.open = map[string]*openStreams{}
	}
	o := l.open[t.ID]
	if o == nil {
		o = &openStreams{key: t.key, expires: t.Expires, cancels: map[*stream]struct{}{}}
		l.open[t.ID] = o
	}
	o.cancels[st] = struct{}{}
	if !l.ticking {
		l.ticking = true
		go s.checkTokens()
	}
	l.mu.Unlock()
	// A token revoked between its check and now is caught at once.
	if t.Expired(time.Now()) {
		cancel(ErrTokenExpired)
	} else if _, found, err := s.opts.KV.Get(t.key); err == nil && !found {
		cancel(ErrTokenRevoked)
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if o := l.open[t.ID]; o != nil {
			delete(o.cancels, st)
			if len(o.cancels) == 0 {
				delete(l.open, t.ID)
			}
		}
	}
}

// endStreams ends the open streams of a token.
func (s *Server) endStreams(id string, cause error) {
	l := &s.live
	l.mu.Lock()
	o := l.open[id]
	var cancels []context.CancelCauseFunc
	if o != nil {
		for st := range o.cancels {
			cancels = append(cancels, st.cancel)
		}
	}
	l.mu.Unlock()
	for _, cancel := range cancels {
		cancel(cause)
	}
}

// checkTokens runs while streams are open: every tokenCheckEvery it ends
// those whose token expired or was removed from the store.
func (s *Server) checkTokens() {
	l := &s.live
	tick := time.NewTicker(tokenCheckEvery)
	defer tick.Stop()
	for range tick.C {
		type check struct {
			id, key string
			expires time.Time
		}
		l.mu.Lock()
		if len(l.open) == 0 {
			l.ticking = false
			l.mu.Unlock()
			return
		}
		checks := make([]check, 0, len(l.open))
		for id, o := range l.open {
			checks = append(checks, check{id, o.key, o.expires})
		}
		l.mu.Unlock()
		now := time.Now()
		for _, c := range checks {
			if !c.expires.IsZero() && !now.Before(c.expires) {
				s.endStreams(c.id, ErrTokenExpired)
			} else if _, found, err := s.opts.KV.Get(c.key); err == nil && !found {
				s.endStreams(c.id, ErrTokenRevoked)
			}
		}
	}
}

// touch notes a use of a token; the store learns of it at most once every
// lastUsedEvery.
func (s *Server) touch(t *Token) {
	now := time.Now().UTC()
	l := &s.live
	l.mu.Lock()
	if l.used == nil {
		l.used, l.written, l.keys = map[string]time.Time{}, map[string]time.Time{}, map[string]string{}
	}
	l.used[t.ID] = now
	l.keys[t.ID] = t.key
	write := now.Sub(l.written[t.ID]) >= lastUsedEvery
	if write {
		l.written[t.ID] = now
	}
	l.mu.Unlock()
	if write {
		_ = writeLastUsed(s.opts.KV, t.key, now)
	}
}

// flushLastUsed writes the last uses not yet stored.
func (s *Server) flushLastUsed() {
	l := &s.live
	l.mu.Lock()
	pending := map[string]time.Time{}
	for id, at := range l.used {
		if at.After(l.written[id]) {
			pending[l.keys[id]] = at
			l.written[id] = at
		}
	}
	l.mu.Unlock()
	for key, at := range pending {
		_ = writeLastUsed(s.opts.KV, key, at)
	}
}

// ListTokens lists an org's tokens (ListTokens), with the last uses this
// server has seen but not yet written.
func (s *Server) ListTokens(org string) ([]Token, error) {
	list, err := ListTokens(s.opts.KV, org)
	if err != nil {
		return nil, err
	}
	l := &s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range list {
		if at, ok := l.used[list[i].ID]; ok && at.After(list[i].LastUsed) {
			list[i].LastUsed = at
		}
	}
	return list, nil
}

// RevokeToken revokes a token (RevokeToken) and ends its open streams at
// once.
func (s *Server) RevokeToken(ctx context.Context, org, name, principal string) ([]Token, error) {
	gone, err := RevokeToken(ctx, s.opts.Manager, s.opts.KV, org, name, principal)
	for _, t := range gone {
		s.endStreams(t.ID, ErrTokenRevoked)
		s.live.mu.Lock()
		delete(s.live.used, t.ID)
		delete(s.live.written, t.ID)
		delete(s.live.keys, t.ID)
		s.live.mu.Unlock()
		s.dropSessions(t.ID)
	}
	return gone, err
}

// expiredMessage is the refusal of an expired token.
func expiredMessage(t *Token) string {
	return fmt.Sprintf("token %s expired at %s", t.Name, t.Expires.UTC().Format(time.RFC3339))
}
