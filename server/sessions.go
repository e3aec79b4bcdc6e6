package server

import (
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// Bounds on the sessions the server keeps for attached clients: a token
// cannot grow the server's memory by naming ever new session ids.
const (
	sessionIdle        = time.Hour
	maxSessionsPerUser = 64
	maxSessions        = 4096
)

// remoteSession is a VQL session kept for an attached client (a REPL), so
// its LETs persist from one statement to the next.
type remoteSession struct {
	mu       sync.Mutex
	session  *vql.Session
	logs     func(vql.Message)
	owner    string // sessionOwner of the caller that made it
	lastUsed time.Time

	// The running query's confirmations (see confirm.go), set while a
	// query that asked for them runs; under its own lock, because the
	// query holds mu.
	cmu     sync.Mutex
	confirm *confirmation
}

// close ends a session the server no longer keeps, once the request
// running in it (if any) is over: its temporary files go with it.
func (rs *remoteSession) close() {
	go func() {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.session.Close()
	}()
}

// closeSessions ends the kept sessions no request is running in (the
// server shuts down): shutting down does not wait for a query to end.
func (s *Server) closeSessions() {
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	for k, rs := range s.sessions {
		if rs.mu.TryLock() {
			delete(s.sessions, k)
			rs.session.Close()
			rs.mu.Unlock()
		}
	}
}

func (rs *remoteSession) running() *confirmation {
	rs.cmu.Lock()
	defer rs.cmu.Unlock()
	return rs.confirm
}

func (rs *remoteSession) setRunning(cf *confirmation) {
	rs.cmu.Lock()
	rs.confirm = cf
	rs.cmu.Unlock()
}

// sessionOwner is who a session belongs to: the token itself (its hash),
// its org and its role — never its name alone, which another org's token
// may share — or the folder's owner.
func sessionOwner(c *caller) string {
	if c.local {
		return "local"
	}
	return c.key + "\x00" + c.token.Org + "\x00" + c.token.Role
}

// session finds or makes the VQL session of a request. Requests without a
// session id get a fresh one; a session id names a session only among the
// caller's own.
func (s *Server) session(c *caller, id string, logf func(vql.Message)) *remoteSession {
	owner := sessionOwner(c)
	make := func() *remoteSession {
		rs := &remoteSession{owner: owner, lastUsed: time.Now(), logs: logf}
		rs.session = s.opts.Engine.NewSession(vql.SessionOptions{
			Identity:       c.identity(),
			OnDenied:       s.auditDenied(c),
			MaxQueryMemory: s.opts.MaxQueryMemory,
			UploadDir:      s.opts.UploadDir,
			OnLog: func(m vql.Message) {
				if rs.logs != nil {
					rs.logs(m)
				}
			}})
		return rs
	}
	if id == "" {
		return make()
	}
	key := owner + "\x00" + id
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	if rs, ok := s.sessions[key]; ok {
		rs.lastUsed = time.Now()
		return rs
	}
	s.evictSessions(owner)
	rs := make()
	s.sessions[key] = rs
	return rs
}

// hasSession reports whether the caller has a session of that id here.
func (s *Server) hasSession(c *caller, id string) bool {
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	_, ok := s.sessions[sessionOwner(c)+"\x00"+id]
	return ok
}

// sayShuttingDown ends a query stream that the server's shutdown stopped
// with {"type":"shutdown"}, so that an attached client can tell "the
// server went away" from "the query finished".
func (s *Server) sayShuttingDown(sw *streamWriter) {
	_ = sw.send(ordereddict.NewDict().Set("type", "shutdown").Set("message", "shutting down"))
	_ = sw.flushNow()
}

// shutdownNotice bounds how long the shutdown message may take to write.
const shutdownNotice = 250 * time.Millisecond

// isDraining reports whether the server is shutting down.
func (s *Server) isDraining() bool {
	select {
	case <-s.draining:
		return true
	default:
		return false
	}
}

// evictSessions drops idle sessions, then the least recently used of the
// owner's (or anyone's) while a new one would be over a bound.
func (s *Server) evictSessions(owner string) {
	mine := 0
	for k, rs := range s.sessions {
		switch {
		case time.Since(rs.lastUsed) > sessionIdle:
			delete(s.sessions, k)
			rs.close()
		case rs.owner == owner:
			mine++
		}
	}
	for mine >= maxSessionsPerUser {
		s.dropOldest(func(rs *remoteSession) bool { return rs.owner == owner })
		mine--
	}
	for len(s.sessions) >= maxSessions {
		s.dropOldest(func(*remoteSession) bool { return true })
	}
}

func (s *Server) dropOldest(match func(*remoteSession) bool) {
	var oldestKey string
	var oldest time.Time
	for k, rs := range s.sessions {
		if match(rs) && (oldestKey == "" || rs.lastUsed.Before(oldest)) {
			oldestKey, oldest = k, rs.lastUsed
		}
	}
	if rs, ok := s.sessions[oldestKey]; ok {
		delete(s.sessions, oldestKey)
		rs.close()
	}
}

// dropSessions forgets the kept sessions of a token (it was revoked): its
// LETs go with it.
func (s *Server) dropSessions(tokenID string) {
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	for k, rs := range s.sessions {
		if strings.HasPrefix(rs.owner, tokenID+"\x00") {
			delete(s.sessions, k)
			rs.close()
		}
	}
}
