package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/artifacts"
)

// TestDebugSessionsExpire checks that a session ends 12 h after login.
func TestDebugSessionsExpire(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &debugAuth{s: &Server{}, now: func() time.Time { return now }, sessions: map[string]debugSession{}}
	id, err := d.open(&Token{key: tokenPrefix + "x"})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(debugSessionTTL - time.Second)
	if key, ok := d.session(id); !ok || key != tokenPrefix+"x" {
		t.Errorf("session before its end: %q %v", key, ok)
	}
	now = now.Add(time.Second)
	if _, ok := d.session(id); ok {
		t.Errorf("session after 12 h")
	}
	if len(d.sessions) != 0 {
		t.Errorf("an ended session is kept")
	}
}

// TestDebugSessionsBounded checks that logins beyond debugMaxSessions end
// the oldest sessions, not the newest.
func TestDebugSessionsBounded(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &debugAuth{s: &Server{}, now: func() time.Time { return now }, sessions: map[string]debugSession{}}
	var ids []string
	for range debugMaxSessions + 5 {
		id, err := d.open(&Token{key: tokenPrefix + "x"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		now = now.Add(time.Second)
	}
	if len(d.sessions) != debugMaxSessions {
		t.Errorf("%d sessions kept, want %d", len(d.sessions), debugMaxSessions)
	}
	for i, id := range ids {
		if _, ok := d.session(id); ok != (i >= 5) {
			t.Errorf("session %d alive: %v", i, ok)
		}
	}
}

// TestDebugSessionFollowsToken checks that a session ends, at the next
// request, when its token expires or is revoked (gone from the store).
func TestDebugSessionFollowsToken(t *testing.T) {
	kv := artifacts.NewMemoryStorage()
	now := time.Now()
	tk := Token{Name: "ops", Role: RoleAdmin, Org: "root", Expires: now.Add(time.Hour)}
	if _, err := storeToken(kv, &tk); err != nil {
		t.Fatal(err)
	}
	d := &debugAuth{s: &Server{opts: Options{KV: kv}}, now: func() time.Time { return now }, sessions: map[string]debugSession{}}
	request := func() *http.Request {
		id, err := d.open(&tk)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/debug/queues", nil)
		req.AddCookie(&http.Cookie{Name: debugCookie, Value: id})
		if c, cred, _, ok := d.caller(req, true); !ok || cred != credSession || c.token.Name != "ops" || c.org != "root" {
			t.Fatalf("caller with a live session: %+v %v %v", c, cred, ok)
		}
		return req
	}

	req := request()
	now = now.Add(time.Hour)
	if _, cred, why, ok := d.caller(req, true); ok || cred != credSession || !strings.Contains(why, "expired") {
		t.Errorf("the session outlived its token's expiry: %v %q", ok, why)
	}
	if len(d.sessions) != 0 {
		t.Errorf("the session of an expired token is kept")
	}

	now = now.Add(-time.Hour)
	req = request()
	if err := kv.Delete(tk.key); err != nil { // what RevokeToken does to the store
		t.Fatal(err)
	}
	if _, cred, why, ok := d.caller(req, true); ok || cred != credSession || !strings.Contains(why, "revoked") {
		t.Errorf("the session outlived its token: %v %q", ok, why)
	}
	if len(d.sessions) != 0 {
		t.Errorf("the session of a revoked token is kept")
	}
}
