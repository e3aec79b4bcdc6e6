package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vqlq/vqlq/artifacts"
)

// TestDebugSessionsExpire checks that a session ends 12 h after login.
func TestDebugSessionsExpire(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &debugAuth{s: &Server{}, now: func() time.Time { return now }, sessions: map[string]debugSession{}}
	id, err := d.open("vqlq_x")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(debugSessionTTL - time.Second)
	if secret, ok := d.session(id); !ok || secret != "vqlq_x" {
		t.Errorf("session before its end: %q %v", secret, ok)
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
		id, err := d.open("vqlq_x")
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

// TestDebugSessionFollowsToken checks that a session ends when its token
// is gone from the store (revoked, deleted), at the next request.
func TestDebugSessionFollowsToken(t *testing.T) {
	kv := artifacts.NewMemoryStorage()
	secret, err := CreateToken(kv, Token{Name: "ops", Role: RoleAdmin, Org: "root"})
	if err != nil {
		t.Fatal(err)
	}
	d := &debugAuth{s: &Server{opts: Options{KV: kv}}, now: time.Now, sessions: map[string]debugSession{}}
	id, err := d.open(secret)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/debug/queues", nil)
	req.AddCookie(&http.Cookie{Name: debugCookie, Value: id})
	if c, cred, ok := d.caller(req, true); !ok || cred != credSession || c.token.Name != "ops" {
		t.Fatalf("caller with a live session: %+v %v %v", c, cred, ok)
	}
	// Where the store keeps the token: see tokens.go.
	if err := kv.Delete(tokenPrefix + hashToken(secret)); err != nil {
		t.Fatal(err)
	}
	if _, cred, ok := d.caller(req, true); ok || cred != credSession {
		t.Errorf("the session outlived its token")
	}
	if _, ok := d.session(id); ok {
		t.Errorf("the session of a deleted token is kept")
	}
}
