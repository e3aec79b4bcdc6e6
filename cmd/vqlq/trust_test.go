package main

import (
	"strings"
	"testing"
)

// The org comes from the session, with the real binary: a reader token
// over HTTP and an attached `vqlq query` over the socket both stay in
// their org whatever the query sets.
func TestServeOrgIsTheSessions(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	for _, org := range []string{"root", "acme"} {
		r := runVQLQ(t, "", "query", "--data-dir", p.data, "--org", org,
			"SELECT send_event(artifact='Server.Events.Receive', row=dict(what='"+org+"-event')) FROM scope()")
		if r.code != 0 {
			t.Fatalf("send in %s: %+v", org, r)
		}
	}
	reader := p.token(t, "--name", "dash", "--role", "reader")
	const crossing = `LET OrgId = 'acme' SELECT what FROM source(artifact='Server.Events.Receive')`
	status, body, err := post(p.url+"/api/v1/orgs/"+rootOrg+"/query", reader, crossing)
	if err != nil || status != 200 || strings.Contains(body, "acme-event") || !strings.Contains(body, `"row":{"what":"root-event"}`) ||
		!strings.Contains(body, "setting OrgId does not change the org") {
		t.Errorf("reader over HTTP: %d %s %v", status, body, err)
	}
	r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", crossing)
	if r.stdout != "{\"what\":\"root-event\"}\n" || !strings.Contains(r.stderr, "setting OrgId does not change the org") {
		t.Errorf("attached over the socket: %+v", r)
	}
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "--org", "acme", "SELECT what, _Source FROM source(artifact='Server.Events.Receive')")
	if r.stdout != "{\"what\":\"acme-event\",\"_Source\":\"server\"}\n" {
		t.Errorf("acme holds %+v", r)
	}
}

// An org id outside the alphabet is refused wherever it enters, with the
// rule in the message.
func TestBadOrgIsRefusedEverywhere(t *testing.T) {
	e := newQueueEnv(t)
	for _, args := range [][]string{
		e.args("--org", "a.b", "SELECT 1 FROM scope()"),
		{"run", "--data-dir", e.data, "--org", "../etc", "nothing.vql"},
		{"token", "create", "--data-dir", e.data, "--org", "has space", "--name", "x", "--role", "reader"},
		{"serve", "--data-dir", e.data, "--org", strings.Repeat("o", 65)},
	} {
		r := runVQLQ(t, "", args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "an org id is 1 to 64 letters, digits, '_' or '-'") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// Parameters of monitoring artifacts (webhook URLs, keys) and their logs
// are the server's configuration: a reader's query is refused them.
func TestServeReadersCannotReadTheMonitoringTable(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	reader := p.token(t, "--name", "dash", "--role", "reader")
	for _, tt := range []struct{ query, want string }{
		{"SELECT get_server_monitoring() AS t FROM scope()", "get_server_monitoring: permission denied: dash (reader) lacks SERVER_ADMIN"},
		{"SELECT * FROM monitoring_logs(artifact='Server.Events.Receive')", "monitoring_logs: permission denied: dash (reader) lacks SERVER_ADMIN"},
		{"SELECT add_server_monitoring(artifact='Server.Events.Receive') FROM scope()", "add_server_monitoring: permission denied: dash (reader) lacks SERVER_ADMIN"},
	} {
		status, body, err := post(p.url+"/api/v1/orgs/"+rootOrg+"/query", reader, tt.query)
		if err != nil || status != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s %v", tt.query, status, body, err)
		}
	}
}
