package server_test

import (
	"strings"
	"testing"
)

// TestResumingAnUnknownSessionIsGone: a client that asks to resume a
// session this server does not have (it restarted) gets a 410, not a
// fresh session that silently lacks its LETs; a session it has resumes.
func TestResumingAnUnknownSessionIsGone(t *testing.T) {
	e := newAPIEnv(t, 0)
	query := "/api/v1/orgs/" + rootOrg + "/query"
	status, body := e.do("POST", query, "reader", `{"session":"s1","resume":true,"query":"SELECT 1 AS a FROM scope()"}`)
	if status != 410 || !strings.Contains(body, "session s1 is not on this server") {
		t.Fatalf("unknown session: %d %s", status, body)
	}
	if status, body = e.do("POST", query, "reader", `{"session":"s1","query":"LET X = 5"}`); status != 200 {
		t.Fatalf("new session: %d %s", status, body)
	}
	status, body = e.do("POST", query, "reader", `{"session":"s1","resume":true,"query":"SELECT X FROM scope()"}`)
	if status != 200 || !strings.Contains(body, `"row":{"X":5}`) {
		t.Errorf("resumed session: %d %s", status, body)
	}
}
