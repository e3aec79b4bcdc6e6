// Package server is `vqlq serve`: the HTTP API over the event queues
// (send, watch, query, list), token access control, the debug page and
// metrics, and the local socket through which other vqlq processes on the
// same data folder attach.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// DefaultMaxRowBytes is the largest event accepted from the API.
const DefaultMaxRowBytes = 1 << 20

// Options configure a Server.
type Options struct {
	Manager *queues.Manager
	// KV keeps the tokens (the data folder's store).
	KV artifacts.Storage
	// Engine runs the queries of every org: each request's session holds
	// the org, principal and permissions of its token.
	Engine *vql.Engine
	// MaxRowBytes limits one event sent through the API (default 1 MB;
	// --max-row-bytes).
	MaxRowBytes int
	// MaxBody limits the body of one request, read as it arrives (default
	// DefaultMaxBody, 16 MB; --max-body).
	MaxBody int64
	// MaxHeaderBytes limits a request's line and headers on the network
	// listener (default DefaultMaxHeaderBytes, 64 KB); see HTTPServer.
	MaxHeaderBytes int
	// MaxQueryMemory is the memory budget of each statement the server
	// runs for a client (vql.SessionOptions.MaxQueryMemory: 0 is
	// vql.DefaultMaxQueryMemory, negative none; --max-query-memory).
	MaxQueryMemory int64
	// UploadDir is where the sessions' upload() stores files (the data
	// folder's uploads/; vql.SessionOptions.UploadDir).
	UploadDir string
	// AuditLimits bound the audit rows of refusals.
	AuditLimits AuditLimits
	// Now replaces the clock of the audit limits in tests.
	Now func() time.Time
	// Deny are permissions no session of the server holds, whoever its
	// caller (vqlq serve --deny): the socket, admins and every token.
	Deny []vql.Permission
	// KeepAlive is how long a Server-Sent Events stream may stay silent
	// before it sends a comment line (default DefaultKeepAlive): proxies
	// and load balancers cut connections that carry nothing for a while.
	KeepAlive time.Duration
	// Clients is the client event table the client endpoints serve
	// (package clienttable); nil serves every client an empty table.
	Clients ClientTables
}

// DefaultKeepAlive keeps idle SSE streams under the 15 s after which
// common proxies give up on a silent connection.
const DefaultKeepAlive = 10 * time.Second

// Server serves the API. Its zero value is not usable; call New.
type Server struct {
	opts Options
	mux  *http.ServeMux

	// inflight counts requests that are sending, so shutdown can let them
	// finish; draining is closed when shutdown starts.
	inflight sync.WaitGroup
	draining chan struct{}
	drainMu  sync.Mutex

	sessionsMu sync.Mutex
	sessions   map[string]*remoteSession

	// live tracks the tokens in use: last use, open streams.
	live tokenLive

	refusals *refusals
	queries  runningQueries
}

// New builds a server.
func New(opts Options) *Server {
	if opts.MaxRowBytes <= 0 {
		opts.MaxRowBytes = DefaultMaxRowBytes
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), draining: make(chan struct{}), sessions: map[string]*remoteSession{},
		refusals: newRefusals(opts.Manager, opts.AuditLimits, opts.Now)}
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/events/{artifact...}", s.auth(s.handleSend))
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/events/{artifact...}", s.auth(s.handleWatch))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/query", s.auth(s.handleQuery))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/query/confirm", s.auth(s.handleConfirm))
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/queues", s.auth(s.handleQueues))
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/consumers", s.auth(s.handleConsumers))
	// {artifact} may hold '/' (Artifact/Source), and a wildcard with ...
	// must end a pattern: the handlers split the rest of the path
	// themselves (…/{artifact}/{name}/ack, …/{artifact}/{name}).
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/consumers/{rest...}", s.auth(s.handleAck))
	s.mux.HandleFunc("DELETE /api/v1/orgs/{org}/consumers/{rest...}", s.auth(s.handleDeleteConsumer))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/tokens", s.auth(s.handleCreateToken))
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/tokens", s.auth(s.handleListTokens))
	s.mux.HandleFunc("DELETE /api/v1/orgs/{org}/tokens/{name}", s.auth(s.handleRevokeToken))
	s.clientRoutes()
	newDebugAuth(s).routes(s.mux) // /debug/… and /metrics, with their own login
	return s
}

// Handler is the server's HTTP handler for the network listener: every
// API call needs a bearer token.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.route) }

// LocalHandler is the handler for the data folder's socket: callers there
// are the folder's owner and act as admin without a token.
func (s *Server) LocalHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.route(w, r.WithContext(context.WithValue(r.Context(), localKey{}, true)))
	})
}

// route serves a request by the mux, except that a path no route has and
// a method a route does not take are answered with the API's JSON error
// (the mux's own answers are text/plain), the 405 with its Allow header.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // which sets the path's values
		return
	}
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeJSON(w, probe.status, apiError{Error: fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, probe.header.Get("Allow")), Status: probe.status})
	case http.StatusNotFound, 0:
		writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no such endpoint: %s %s (the API is under /api/v1/orgs/{org}/…; see the README)", r.Method, r.URL.Path), Status: http.StatusNotFound})
	default: // a redirect the mux makes (a cleaned path)
		for k, v := range probe.header {
			w.Header()[k] = v
		}
		w.WriteHeader(probe.status)
	}
}

// statusProbe records what the mux's built-in handlers answer, so that
// route can answer in JSON instead.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }

type localKey struct{}

// caller is who is making a request.
type caller struct {
	token *Token // the bearer token, once checked
	// key identifies the token itself (its hash), not its name: two
	// tokens of one name in different orgs are different callers.
	key   string
	local bool // came through the data folder's socket
	org   string
	// deny are the server's --deny: no identity of the caller holds them.
	deny []vql.Permission
}

func (c *caller) principal() string {
	switch {
	case c.local:
		return "local"
	case c.token != nil:
		return c.token.Name
	}
	return "anonymous"
}

func (c *caller) role() string {
	switch {
	case c.local:
		return RoleAdmin
	case c.token != nil:
		return c.token.Role
	}
	return ""
}

// apiError is the body of every refusal.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// Messages quote what the client sent (a query, a path): < and & stay
	// as they are, not \u003c, for people and tools reading them.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// refuse answers with a JSON error and records the refusal in
// Server.Audit.Logs (see refuseAs), counted under the reason its status
// implies.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, c *caller, status int, format string, args ...any) {
	s.refuseAs(w, r, c, status, reasonFor(status), format, args...)
}

// orgKnown reports whether an org exists: it has used queues, has
// run-time artifacts or has tokens.
func (s *Server) orgKnown(org string) bool {
	for _, o := range s.opts.Manager.Orgs() {
		if o == org {
			return true
		}
	}
	return tokenOrgs(s.opts.KV)[org]
}

// auth checks the bearer token (or the local socket) and the org, then
// calls h.
func (s *Server) auth(h func(w http.ResponseWriter, r *http.Request, c *caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("org")
		c := &caller{org: org, local: r.Context().Value(localKey{}) != nil, deny: s.opts.Deny}
		if !c.local {
			secret, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok {
				s.refuseAs(w, r, c, http.StatusUnauthorized, reasonMissingToken, "missing bearer token: send Authorization: Bearer <token>")
				return
			}
			t, ok := lookupToken(s.opts.KV, secret)
			if !ok {
				s.refuseAs(w, r, c, http.StatusUnauthorized, reasonInvalidToken, "invalid token")
				return
			}
			c.token = t
			c.key = t.ID
			if t.Expired(time.Now()) {
				s.refuseAs(w, r, c, http.StatusUnauthorized, reasonInvalidToken, "%s", expiredMessage(t))
				return
			}
		}
		if err := queues.CheckOrg(org); err != nil {
			s.refuseAs(w, r, c, http.StatusBadRequest, reasonBadRequest, "%v", err)
			return
		}
		// A token acts in its own org only. Whether another org exists is
		// not said: a token cannot learn the names of other orgs.
		if c.token != nil {
			if c.token.Org != org {
				s.refuseAs(w, r, c, http.StatusForbidden, reasonWrongOrg, "token %s is not valid in org %s", c.token.Name, org)
				return
			}
			if c.token.Role == RoleEnroll && r.URL.Path != clientapi.EnrollPath(org) {
				s.refuseAs(w, r, c, http.StatusForbidden, reasonForbidden, "token %s has the enroll role: it may only enroll clients", c.token.Name)
				return
			}
			if c.token.Role == RoleMetrics {
				s.refuseAs(w, r, c, http.StatusForbidden, reasonForbidden, "token %s has the metrics role: it may only read /metrics", c.token.Name)
				return
			}
			s.touch(c.token)
		}
		h(w, withCaller(r, c), c)
	}
}

// Shutdown stops accepting sends and waits for the ones in flight to be
// stored (or ctx to end), and writes the last summary of suppressed audit
// rows. Watchers and queries end with their requests, which the
// http.Server's own Shutdown cancels. The tokens' last uses are written to
// the store.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.flushLastUsed()
	defer s.refusals.limiter.close()
	s.drainMu.Lock()
	select {
	case <-s.draining:
	default:
		close(s.draining)
	}
	s.drainMu.Unlock()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
		s.closeSessions()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// beginSend registers a send, unless the server is shutting down.
func (s *Server) beginSend() bool {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	select {
	case <-s.draining:
		return false
	default:
		s.inflight.Add(1)
		return true
	}
}
