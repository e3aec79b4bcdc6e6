package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
)

// Who sees what on the debug page (/debug/queues and its JSON) and on
// /metrics:
//
//	caller                      debug page                     /metrics
//	local socket, root admin    every org, query texts         every org, Go and process metrics
//	admin of another org        its org, query texts           its org
//	reader                      its org, no query texts        refused (403)
//	metrics                     refused (403)                  its org; every org (and Go, process) in root
//	publisher                   refused (403)                  refused (403)
//	no or an unknown token      the login form (401)           401 with WWW-Authenticate: Bearer
//
// A browser cannot send a bearer token, so the page has a login form that
// opens a session (see debugAuth); curl and scripts may send the token as
// Authorization: Bearer instead, on the page and on the JSON.

// debugAccess is what a caller may see.
type debugAccess struct {
	// org is the one org shown; "" shows every org.
	org string
	// queries shows the watchers' query texts (already redacted of
	// secrets where they are made).
	queries bool
	// viewer describes the caller, for the page's header.
	viewer debugViewer
}

// debugViewer is who is looking at the page.
type debugViewer struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Org  string `json:"org"`
	// AllOrgs is set for server admins (the local socket, an admin of
	// root), who see every org.
	AllOrgs bool `json:"all_orgs"`
	// Session is set when the caller logged in through the form (and can
	// log out).
	Session bool `json:"-"`
}

// debugHiddenQuery stands for a watcher's query on a reader's page.
const debugHiddenQuery = "query hidden (admin only)"

// serverAdmin reports whether a caller sees every org: the local socket,
// or an admin (for /metrics also a metrics token) of the default org.
func serverAdmin(c *caller, roles ...string) bool {
	if c.local {
		return true
	}
	if c.token == nil || c.token.Org != queues.DefaultOrg {
		return false
	}
	for _, r := range roles {
		if c.token.Role == r {
			return true
		}
	}
	return false
}

// debugAccessOf says what a caller may see on the debug page; ok is false
// when the caller may not see it at all.
func debugAccessOf(c *caller) (a debugAccess, ok bool) {
	role := c.role()
	if role != RoleAdmin && role != RoleReader {
		return debugAccess{}, false
	}
	a.viewer = debugViewer{Name: c.principal(), Role: role, Org: c.org}
	if serverAdmin(c, RoleAdmin) {
		a.viewer.AllOrgs = true
	} else {
		a.org = c.org
	}
	a.queries = role == RoleAdmin
	return a, true
}

// Sessions of the debug page.
const (
	debugCookie = "vqlq_debug"
	// debugSessionTTL is how long a login lasts.
	debugSessionTTL = 12 * time.Hour
	// debugMaxSessions bounds the sessions kept; logging in beyond it ends
	// the session closest to its end.
	debugMaxSessions = 1000
	// debugMaxForm bounds the body of a login.
	debugMaxForm = 64 << 10
)

// debugAuth is the login of the debug page.
//
// The cookie holds a random session id (256 bits), never the token. The
// server maps it, in memory only, to the token's store key (which holds the
// SHA-256 of the secret, never the secret) and an expiry: 12 h after login,
// at most debugMaxSessions sessions. Every request reads the token again
// from the store, so a token that is revoked or expires ends its sessions
// at the next request. Nothing of a session is written to disk, so a
// restart logs everyone out.
//
// The cookie is HttpOnly (the page's script cannot read it), SameSite=Strict
// (no other site's page can make the browser send it), Path=/debug, and
// Secure when the request came over TLS. SameSite=Strict does not cover the
// login itself (a site could post its own token to log a victim in under
// it), so login and logout also refuse a request whose Origin header names
// another host than the request's, and one a browser marks cross-site
// (Sec-Fetch-Site).
type debugAuth struct {
	s   *Server
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]debugSession

	// allMetrics serves /metrics to server admins.
	allMetrics http.Handler
}

type debugSession struct {
	key     string // the token's store key, tokens/<sha256 hex>
	expires time.Time
}

func newDebugAuth(s *Server) *debugAuth {
	return &debugAuth{s: s, now: time.Now, sessions: map[string]debugSession{},
		allMetrics: metricsHandler(s.opts.Manager, "", append(s.refusals.collectors(), s.queries.collector())...)}
}

// routes adds the debug page, its login and /metrics to the server's mux.
func (d *debugAuth) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "queues", http.StatusFound)
	})
	mux.HandleFunc("GET /debug/queues", d.handlePage)
	mux.HandleFunc("GET /debug/queues.json", d.handleJSON)
	mux.HandleFunc("GET /debug/login", func(w http.ResponseWriter, r *http.Request) {
		debugServeLogin(w, http.StatusOK, "")
	})
	mux.HandleFunc("POST /debug/login", d.handleLogin)
	mux.HandleFunc("POST /debug/logout", d.handleLogout)
	mux.HandleFunc("GET /metrics", d.handleMetrics)
}

// open starts a session for a token and returns its id.
func (d *debugAuth) open(t *Token) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, s := range d.sessions {
		if !now.Before(s.expires) {
			delete(d.sessions, k)
		}
	}
	for len(d.sessions) >= debugMaxSessions {
		var first string
		for k, s := range d.sessions {
			if first == "" || s.expires.Before(d.sessions[first].expires) {
				first = k
			}
		}
		delete(d.sessions, first)
	}
	d.sessions[id] = debugSession{key: t.key, expires: now.Add(debugSessionTTL)}
	return id, nil
}

// session returns the token key of a live session.
func (d *debugAuth) session(id string) (string, bool) {
	if id == "" {
		return "", false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[id]
	if !ok {
		return "", false
	}
	if !d.now().Before(s.expires) {
		delete(d.sessions, id)
		return "", false
	}
	return s.key, true
}

func (d *debugAuth) close(id string) {
	d.mu.Lock()
	delete(d.sessions, id)
	d.mu.Unlock()
}

// debugCredential is how a request presented itself.
type debugCredential int

const (
	credNone    debugCredential = iota
	credLocal                   // the data folder's socket
	credBearer                  // Authorization: Bearer
	credSession                 // the login cookie
)

// tokenByKey reads the token stored under a key.
func tokenByKey(kv artifacts.Storage, key string) (*Token, bool) {
	if !strings.HasPrefix(key, tokenPrefix) {
		return nil, false
	}
	data, ok, err := kv.Get(key)
	if err != nil || !ok {
		return nil, false
	}
	return decodeToken(key, data)
}

// caller finds who makes a request: the local socket, a bearer token, or
// (when cookies is set) the session cookie. ok is false when the request
// carries no valid credential; cred then says what it carried (and msg
// why it is not valid), and c is an anonymous caller for the audit log.
func (d *debugAuth) caller(r *http.Request, cookies bool) (c *caller, cred debugCredential, msg string, ok bool) {
	c = &caller{org: queues.DefaultOrg, deny: d.s.opts.Deny}
	if r.Context().Value(localKey{}) != nil {
		c.local = true
		return c, credLocal, "", true
	}
	var t *Token
	if h := r.Header.Get("Authorization"); h != "" {
		cred = credBearer
		secret, isBearer := bearerToken(h)
		if !isBearer {
			return c, cred, "invalid token: send Authorization: Bearer <token>", false
		}
		if t, ok = lookupToken(d.s.opts.KV, secret); !ok {
			return c, cred, "invalid token", false
		}
	} else if cookies {
		ck, err := r.Cookie(debugCookie)
		if err != nil {
			return c, credNone, "", false
		}
		cred = credSession
		key, live := d.session(ck.Value)
		if !live {
			return c, cred, "session ended", false
		}
		if t, ok = tokenByKey(d.s.opts.KV, key); !ok {
			// The token was revoked under a live session.
			d.close(ck.Value)
			return c, cred, "session ended: its token was revoked", false
		}
	} else {
		return c, credNone, "", false
	}
	if t.Expired(d.now()) {
		if cred == credSession {
			ck, _ := r.Cookie(debugCookie)
			d.close(ck.Value)
		}
		return c, cred, expiredMessage(t), false
	}
	c.token, c.key, c.org = t, t.ID, t.Org
	d.s.touch(t)
	return c, cred, "", true
}

// handlePage serves the page to those who may see it, and the login form
// to the others.
func (d *debugAuth) handlePage(w http.ResponseWriter, r *http.Request) {
	c, cred, why, ok := d.caller(r, true)
	if !ok {
		switch cred {
		case credNone:
			// A visit without credentials is the way to the login form,
			// not a refusal worth an audit entry.
			w.Header().Set("WWW-Authenticate", `Bearer realm="vqlq"`)
			debugServeLogin(w, http.StatusUnauthorized, "")
		case credSession:
			debugClearCookie(w, r)
			d.s.recordRefusal(r, c, http.StatusUnauthorized, reasonInvalidToken, "debug page: "+why)
			w.Header().Set("WWW-Authenticate", `Bearer realm="vqlq"`)
			debugServeLogin(w, http.StatusUnauthorized, "Your session has ended: log in again.")
		default:
			d.s.recordRefusal(r, c, http.StatusUnauthorized, reasonInvalidToken, why)
			w.Header().Set("WWW-Authenticate", `Bearer realm="vqlq", error="invalid_token"`)
			debugServeLogin(w, http.StatusUnauthorized, "Invalid token.")
		}
		return
	}
	a, allowed := debugAccessOf(c)
	if !allowed {
		msg := "token " + c.principal() + " (" + c.role() + ") may not see the debug page: log in with a reader or admin token"
		d.s.recordRefusal(r, c, http.StatusForbidden, reasonForbidden, msg)
		if cred == credSession {
			debugClearCookie(w, r)
		}
		debugServeLogin(w, http.StatusForbidden, msg+".")
		return
	}
	a.viewer.Session = cred == credSession
	debugServePage(w, debugSnapshot(d.s.opts.Manager, time.Now(), a))
}

// handleJSON serves the page's data, to the same callers as the page.
func (d *debugAuth) handleJSON(w http.ResponseWriter, r *http.Request) {
	c, cred, why, ok := d.caller(r, true)
	if !ok {
		msg, reason := "missing credentials: log in at /debug/queues or send Authorization: Bearer <token>", reasonMissingToken
		switch cred {
		case credSession:
			debugClearCookie(w, r)
			msg, reason = why+": log in again at /debug/queues", reasonInvalidToken
		case credBearer:
			msg, reason = why, reasonInvalidToken
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="vqlq"`)
		d.s.refuseAs(w, r, c, http.StatusUnauthorized, reason, "%s", msg)
		return
	}
	a, allowed := debugAccessOf(c)
	if !allowed {
		d.s.refuse(w, r, c, http.StatusForbidden, "token %s (%s) may not see the debug page", c.principal(), c.role())
		return
	}
	a.viewer.Session = cred == credSession
	debugServeJSON(w, debugSnapshot(d.s.opts.Manager, time.Now(), a))
}

// sameOrigin reports whether a browser's request comes from a page of this
// server: its Origin header, when there is one, names the host the request
// was sent to, and the browser does not call it cross-site. Only the host
// is compared, not the scheme, so a TLS proxy in front works as long as it
// passes the Host header on.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false // includes "null", sent by sandboxed and privacy-sensitive contexts
	}
	return strings.EqualFold(u.Host, r.Host)
}

// handleLogin checks a token posted by the login form and opens a session:
// a 303 to the page with the cookie set, or the form again with what was
// wrong (401 for an unknown token, 403 for one that may not see the page).
func (d *debugAuth) handleLogin(w http.ResponseWriter, r *http.Request) {
	anon := &caller{org: queues.DefaultOrg}
	if !sameOrigin(r) {
		msg := "debug login from another site refused (Origin " + r.Header.Get("Origin") + ")"
		d.s.recordRefusal(r, anon, http.StatusForbidden, reasonForbidden, msg)
		debugServeLogin(w, http.StatusForbidden, "Login refused: the form was not sent from this server's page.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, debugMaxForm)
	if err := r.ParseForm(); err != nil {
		debugServeLogin(w, http.StatusBadRequest, "The login form could not be read.")
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	t, ok := lookupToken(d.s.opts.KV, secret)
	if !ok {
		d.s.recordRefusal(r, anon, http.StatusUnauthorized, reasonInvalidToken, "debug login: invalid token")
		debugServeLogin(w, http.StatusUnauthorized, "Invalid token.")
		return
	}
	c := &caller{token: t, key: t.ID, org: t.Org, deny: d.s.opts.Deny}
	if t.Expired(d.now()) {
		d.s.recordRefusal(r, c, http.StatusUnauthorized, reasonInvalidToken, "debug login: "+expiredMessage(t))
		debugServeLogin(w, http.StatusUnauthorized, "The token has expired.")
		return
	}
	if _, allowed := debugAccessOf(c); !allowed {
		msg := "token " + t.Name + " (" + t.Role + ") may not see the debug page: log in with a reader or admin token"
		d.s.recordRefusal(r, c, http.StatusForbidden, reasonForbidden, "debug login: "+msg)
		debugServeLogin(w, http.StatusForbidden, msg+".")
		return
	}
	d.s.touch(t)
	id, err := d.open(t)
	if err != nil {
		debugServeLogin(w, http.StatusInternalServerError, "Could not open a session: "+err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: debugCookie, Value: id, Path: "/debug",
		MaxAge:   int(debugSessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	_ = d.s.opts.Manager.Audit(context.WithoutCancel(r.Context()), t.Org, "debug_login", t.Name,
		ordereddict.NewDict().Set("remote", r.RemoteAddr))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "queues", http.StatusSeeOther)
}

// handleLogout ends the session and shows the login form.
func (d *debugAuth) handleLogout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		debugServeLogin(w, http.StatusForbidden, "Logout refused: the form was not sent from this server's page.")
		return
	}
	if ck, err := r.Cookie(debugCookie); err == nil {
		d.close(ck.Value)
	}
	debugClearCookie(w, r)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "queues", http.StatusSeeOther)
}

func debugClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: debugCookie, Value: "", Path: "/debug", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// handleMetrics serves /metrics to a bearer token of role metrics or admin
// (Prometheus' scrape config: authorization: {type: Bearer, credentials:
// …}), and to the local socket. Server admins (the socket, such a token of
// root) get every org and the Go and process metrics; others their org's
// queues only.
func (d *debugAuth) handleMetrics(w http.ResponseWriter, r *http.Request) {
	c, cred, why, ok := d.caller(r, false)
	if !ok {
		msg, reason := "missing bearer token: send Authorization: Bearer <token> of a metrics or admin token", reasonMissingToken
		challenge := `Bearer realm="vqlq"`
		if cred == credBearer {
			msg, reason = why, reasonInvalidToken
			challenge = `Bearer realm="vqlq", error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		d.s.refuseAs(w, r, c, http.StatusUnauthorized, reason, "%s", msg)
		return
	}
	if role := c.role(); role != RoleMetrics && role != RoleAdmin {
		d.s.refuse(w, r, c, http.StatusForbidden, "token %s (%s) may not read /metrics: use a metrics or admin token", c.principal(), role)
		return
	}
	if serverAdmin(c, RoleAdmin, RoleMetrics) {
		d.allMetrics.ServeHTTP(w, r)
		return
	}
	metricsHandler(d.s.opts.Manager, c.org).ServeHTTP(w, r)
}
