package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
)

// trustEnv is an apiEnv whose server also listens on a data-folder socket
// (the owner's way in), with an event already stored in each of two orgs.
type trustEnv struct {
	*apiEnv
	socket *http.Client
}

func newTrustEnv(t *testing.T) *trustEnv {
	e := &trustEnv{apiEnv: newAPIEnv(t, 0)}
	ctx := context.Background()
	for _, ev := range []struct{ org, secret string }{{"root", "root-event"}, {"acme", "acme-secret"}} {
		if _, err := e.m.Send(ctx, ev.org, "Server.Events.Receive", ordereddict.NewDict().Set("what", ev.secret), queues.ServerSender); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "vqlq.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	local := &http.Server{Handler: e.srv.LocalHandler()}
	go local.Serve(l)
	t.Cleanup(func() { local.Close() })
	e.socket = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	return e
}

// query runs VQL as a token (or, for "socket", as the folder's owner) in
// the root org and returns the rows and the log messages.
func (e *trustEnv) query(who, body string) (rows, logs []string) {
	e.t.Helper()
	var status int
	var text string
	if who == "socket" {
		resp, err := e.socket.Post("http://vqlq/api/v1/orgs/"+rootOrg+"/query", "text/plain", strings.NewReader(body))
		if err != nil {
			e.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, text = resp.StatusCode, string(b)
	} else {
		status, text = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", who, body)
	}
	if status != 200 {
		e.t.Fatalf("%s: %s: %d %s", who, body, status, text)
	}
	return e.rowsAndLogs(text)
}

// rowsAndLogs splits a query's NDJSON stream into its rows and its log
// messages.
func (e *trustEnv) rowsAndLogs(text string) (rows, logs []string) {
	e.t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		var m struct {
			Type    string
			Row     json.RawMessage
			Message string
		}
		if json.Unmarshal([]byte(line), &m) != nil {
			e.t.Fatalf("not NDJSON: %q", line)
		}
		switch m.Type {
		case "row":
			rows = append(rows, string(m.Row))
		case "log":
			logs = append(logs, m.Message)
		}
	}
	return rows, logs
}

// TestOrgComesFromTheSession: nothing a query sets moves it into another
// org — not a LET of OrgId, not a foreach row with an OrgId column — over
// the HTTP API with a reader's and an admin's token, and over the socket.
func TestOrgComesFromTheSession(t *testing.T) {
	e := newTrustEnv(t)
	reads := []struct{ name, vql string }{
		{"LET OrgId", `LET OrgId = 'acme' SELECT * FROM source(artifact='Server.Events.Receive')`},
		{"foreach row", `SELECT * FROM foreach(row={SELECT 'acme' AS OrgId FROM scope()}, query={SELECT * FROM source(artifact='Server.Events.Receive')})`},
		{"foreach list", `SELECT * FROM foreach(row=[dict(OrgId='acme')], query={SELECT * FROM source(artifact='Server.Events.Receive')})`},
	}
	for _, who := range []string{"reader", "admin", "socket"} {
		for _, tt := range reads {
			rows, logs := e.query(who, tt.vql)
			got := strings.Join(rows, "\n")
			if strings.Contains(got, "acme-secret") || !strings.Contains(got, "root-event") || len(rows) != 1 {
				t.Errorf("%s, %s: read %v", who, tt.name, rows)
			}
			if tt.name == "LET OrgId" && !strings.Contains(strings.Join(logs, "\n"), "LET OrgId: setting OrgId does not change the org") {
				t.Errorf("%s, %s: nothing logged says why: %v", who, tt.name, logs)
			}
		}
		rows, _ := e.query(who, `LET OrgId = 'acme' SELECT org().OrgId AS org FROM scope()`)
		if len(rows) != 1 || rows[0] != `{"org":"root"}` {
			t.Errorf("%s: org() = %v", who, rows)
		}
	}
	sends := []string{
		`LET OrgId = 'acme' SELECT send_event(artifact='Server.Events.Receive', row=dict(what='crossed-let')) AS s FROM scope()`,
		`SELECT * FROM foreach(row=[dict(OrgId='acme')], query={SELECT send_event(artifact='Server.Events.Receive', row=dict(what='crossed-row')) AS s FROM scope()})`,
	}
	for _, who := range []string{"admin", "socket"} {
		for _, q := range sends {
			e.query(who, q)
		}
	}
	acme := strings.Join(e.stored("acme", "Server.Events.Receive"), "\n")
	if strings.Contains(acme, "crossed") {
		t.Errorf("an admin of root sent into acme: %s", acme)
	}
	root := e.stored("root", "Server.Events.Receive")
	if len(root) != 5 {
		t.Fatalf("root holds %d events, want 5 (1 + 2 sends by 2 callers): %v", len(root), root)
	}
}

// TestEventsSayWhoSentThem: a token's send_event through /query and its
// POST are stamped with the token's name; the owner's with "server".
func TestEventsSayWhoSentThem(t *testing.T) {
	e := newTrustEnv(t)
	e.query("admin", `SELECT send_event(artifact='Server.Events.Receive', row=dict(via='query')) FROM scope()`)
	e.query("socket", `SELECT send_event(artifact='Server.Events.Receive', row=dict(via='socket')) FROM scope()`)
	if status, body := e.do("POST", send, "pub", `{"via":"post"}`); status != 200 {
		t.Fatalf("post: %d %s", status, body)
	}
	got := strings.Join(e.stored("root", "Server.Events.Receive"), "\n")
	for _, want := range []string{`"via":"query","_ts":`, `"_Source":"admin"`, `"via":"socket"`, `"_Source":"server"`, `"via":"post"`, `"_Source":"pub"`} {
		if !strings.Contains(got, want) {
			t.Errorf("stored events lack %s:\n%s", want, got)
		}
	}
	for _, line := range e.stored("root", "Server.Events.Receive") {
		switch {
		case strings.Contains(line, `"via":"query"`) && !strings.HasSuffix(line, `"_Source":"admin"}`),
			strings.Contains(line, `"via":"post"`) && !strings.HasSuffix(line, `"_Source":"pub"}`),
			strings.Contains(line, `"via":"socket"`) && !strings.HasSuffix(line, `"_Source":"server"}`):
			t.Errorf("wrong _Source: %s", line)
		}
	}
}

// TestOrgsListsWhatTheCallerMaySee: the root org's admins and the owner
// see every org; anyone else only their own.
func TestOrgsListsWhatTheCallerMaySee(t *testing.T) {
	e := newTrustEnv(t)
	for _, tt := range []struct{ who, org, want string }{
		{"admin", "root", `{"OrgId":"acme","Name":"acme"} {"OrgId":"root","Name":"root"}`},
		{"reader", "root", `{"OrgId":"root","Name":"root"}`},
		{"acme-admin", "acme", `{"OrgId":"acme","Name":"acme"}`},
	} {
		status, body := e.do("POST", "/api/v1/orgs/"+tt.org+"/query", tt.who, "SELECT * FROM orgs()")
		var rows []string
		for _, line := range strings.Split(body, "\n") {
			if row, ok := strings.CutPrefix(line, `{"type":"row","statement":0,"row":`); ok {
				rows = append(rows, strings.TrimSuffix(row, "}"))
			}
		}
		if got := strings.Join(rows, " "); status != 200 || got != tt.want {
			t.Errorf("%s: %d %q want %q", tt.who, status, got, tt.want)
		}
	}
	rows, _ := e.query("socket", "SELECT OrgId FROM orgs()")
	if strings.Join(rows, " ") != `{"OrgId":"acme"} {"OrgId":"root"}` {
		t.Errorf("socket: %v", rows)
	}
}

// TestReaderActionsCreateNoOrg: a reader's queries, however many orgs they
// name, leave the org list as it was, after a restart too.
func TestReaderActionsCreateNoOrg(t *testing.T) {
	e := newTrustEnv(t)
	before := strings.Join(e.m.Orgs(), ",")
	for i := 0; i < 50; i++ {
		e.query("reader", `LET OrgId = format(format='flood%d', args=_value) SELECT * FROM foreach(row={SELECT _value FROM range(end=20)}, query={SELECT * FROM queues()}) LIMIT 1`)
	}
	if after := strings.Join(e.m.Orgs(), ","); after != before || before != "acme,root" {
		t.Errorf("orgs before %s, after %s", before, after)
	}
	recorded := 0
	_ = e.disk.Scan("orgs/", func(string, []byte) error { recorded++; return nil })
	if recorded != 2 { // root and acme, which stored events
		t.Errorf("the store records %d orgs, want 2", recorded)
	}
}

// TestSessionsBelongToOneToken: two tokens of one name in two orgs, using
// one session id, do not share it: the reader sees none of the admin's
// LETs and cannot act with its rights.
func TestSessionsBelongToOneToken(t *testing.T) {
	e := newTrustEnv(t)
	for _, tk := range []server.Token{{Name: "ops", Role: server.RoleAdmin, Org: "acme"}, {Name: "ops", Role: server.RoleReader, Org: "root"}} {
		secret, err := server.IssueToken(context.Background(), e.m, e.disk, tk, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens["ops@"+tk.Org] = secret
	}
	status, body := e.do("POST", "/api/v1/orgs/acme/query", "ops@acme",
		`{"query": "LET Secret = 'acme-let' LET Sender = SELECT send_event(artifact='Server.Events.Receive', row=dict(what='by-acme-session')) FROM scope()", "session": "shared"}`)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	_, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "ops@root", `{"query": "SELECT Secret FROM scope()", "session": "shared"}`)
	if strings.Contains(body, "acme-let") || !strings.Contains(body, "Symbol Secret not found") {
		t.Errorf("the reader read the admin's LET: %s", body)
	}
	// Sender is not a name of the reader's session: the check refuses it.
	status, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "ops@root", `{"query": "SELECT * FROM Sender", "session": "shared"}`)
	if status != 400 || !strings.Contains(body, "unknown plugin Sender") {
		t.Errorf("the reader ran the admin's LET: %d %s", status, body)
	}
	for _, org := range []string{"root", "acme"} {
		if got := strings.Join(e.stored(org, "Server.Events.Receive"), ""); strings.Contains(got, "by-acme-session") {
			t.Errorf("%s holds an event sent through another token's session: %s", org, got)
		}
	}
	// The admin's own session still has its LET.
	_, body = e.do("POST", "/api/v1/orgs/acme/query", "ops@acme", `{"query": "SELECT Secret FROM scope()", "session": "shared"}`)
	if !strings.Contains(body, `"row":{"Secret":"acme-let"}`) {
		t.Errorf("the admin's session lost its LET: %s", body)
	}
}

// TestVQLRefusalsAreAudited: every call a reader's query is refused is in
// Server.Audit.Logs with who, what and the permission lacking.
func TestVQLRefusalsAreAudited(t *testing.T) {
	e := newTrustEnv(t)
	calls := map[string]string{
		"send_event":   "PUBLISH",
		"alert":        "PUBLISH",
		"http_client":  "NETWORK",
		"artifact_set": "ARTIFACT_WRITER",
	}
	_, logs := e.query("reader", `SELECT send_event(artifact='Server.Events.Receive', row=dict(a=1)),
	  alert(name='x'), http_client(url='http://127.0.0.1:1/'), artifact_set(definition='name: Custom.X') FROM range(end=1000)`)
	auditRows := e.stored("root", queues.AuditQueue)
	audit := strings.Join(auditRows, "\n")
	if refused := strings.Count(audit, `"operation":"refused"`); refused != len(calls) {
		t.Errorf("1,000 rows of 4 refused calls recorded %d refusals, want one per call", refused)
	}
	for call, perm := range calls {
		if !strings.Contains(strings.Join(logs, "\n"), call+": permission denied: reader (reader) lacks "+perm) {
			t.Errorf("%s: not in the query's log %v", call, logs)
		}
		want := `"operation":"refused","principal":"reader","details":{"call":"` + call + `","permission":"` + perm + `"`
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	if got := e.stored("root", "Server.Events.Receive"); len(got) != 1 {
		t.Errorf("the reader's query stored events: %v", got)
	}
	if _, ok := e.m.Repository().Get("root", "Custom.X"); ok {
		t.Error("the reader's query set an artifact")
	}
}

// watchLines opens a watch stream and reads n rows from it (fewer if the
// stream ends or the deadline passes), then disconnects.
func (e *trustEnv) watchLines(who, query string, n int) (int, []string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/api/v1/orgs/"+rootOrg+"/events/Server.Events.Receive?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []string
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, []string{string(b)}
	}
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		out = append(out, sc.Text())
	}
	return resp.StatusCode, out
}

// TestConsumersBelongToTheirPrincipal: a second reader cannot drain, or
// move, the forwarder's named consumer; the forwarder gets every event;
// an admin may read it.
func TestConsumersBelongToTheirPrincipal(t *testing.T) {
	e := newTrustEnv(t)
	for _, name := range []string{"forwarder", "intruder"} {
		secret, err := server.IssueToken(context.Background(), e.m, e.disk, server.Token{Name: name, Role: server.RoleReader, Org: "root"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = secret
	}
	// The forwarder makes its consumer, reading what is stored.
	if status, rows := e.watchLines("forwarder", "consumer=fwd&start_time=0", 1); status != 200 || len(rows) != 1 {
		t.Fatalf("forwarder: %d %v", status, rows)
	}
	for i := 0; i < 10; i++ {
		e.do("POST", send, "pub", `{"n":`+string(rune('0'+i))+`}`)
	}
	status, body := e.watchLines("intruder", "consumer=fwd", 10)
	if status != 403 || !strings.Contains(body[0], `consumer \"fwd\" of Server.Events.Receive: consumer belongs to another principal (forwarder)`) {
		t.Errorf("intruder over HTTP: %d %v", status, body)
	}
	_, logs := e.query("reader", `SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='fwd') LIMIT 10`)
	if !strings.Contains(strings.Join(logs, "\n"), "consumer belongs to another principal (forwarder)") {
		t.Errorf("intruder in VQL: %v", logs)
	}
	// The forwarder acknowledges the event it had (its _seq is 1).
	status, rows := e.watchLines("forwarder", "consumer=fwd&after=1", 10)
	if status != 200 || len(rows) != 10 || !strings.Contains(rows[0], `"n":0`) || !strings.Contains(rows[9], `"n":9`) || !strings.Contains(rows[9], `"_seq":11`) {
		t.Errorf("the forwarder got %d of 10: %v", len(rows), rows)
	}
	// The intruder may not acknowledge for it either.
	if status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/consumers/Server.Events.Receive/fwd/ack", "intruder", `{"seq":11}`); status != 403 {
		t.Errorf("intruder's ack: %d %s", status, body)
	}
	// An admin may use (and so move) any consumer.
	e.do("POST", send, "pub", `{"n":"last"}`)
	if status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/consumers/Server.Events.Receive/fwd/ack", "admin", `{"seq":11}`); status != 200 {
		t.Errorf("admin's ack: %d %s", status, body)
	}
	if status, rows := e.watchLines("admin", "consumer=fwd", 1); status != 200 || len(rows) != 1 || !strings.Contains(rows[0], `"n":"last"`) {
		t.Errorf("admin: %d %v", status, rows)
	}
}

// TestReaderRefusalsAcrossSessionsAreBounded: a reader that sends many
// queries, each a new session full of refused calls, writes no more audit
// rows than the refusal rate of one caller allows.
func TestReaderRefusalsAcrossSessionsAreBounded(t *testing.T) {
	e := newTrustEnv(t)
	var stmts []string
	for i := 0; i < 150; i++ {
		stmts = append(stmts, fmt.Sprintf(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=%d)) AS s FROM scope()`, i))
	}
	for range 20 {
		e.query("reader", strings.Join(stmts, "\n"))
	}
	refused := strings.Count(strings.Join(e.stored("root", queues.AuditQueue), "\n"), `"operation":"refused","principal":"reader"`)
	// 3,000 refused statements; the limiter lets a burst of 20 through
	// and then 10 a second.
	if refused == 0 || refused > 200 {
		t.Errorf("3,000 refused statements wrote %d audit rows", refused)
	}
}

// TestAlertsSayWhoRaisedThem: an admin token's alert() is stamped with the
// token's name; the owner's with "server".
func TestAlertsSayWhoRaisedThem(t *testing.T) {
	e := newTrustEnv(t)
	e.query("admin", `SELECT alert(name='by-admin', dedup=-1) FROM scope()`)
	e.query("socket", `SELECT alert(name='by-owner', dedup=-1) FROM scope()`)
	// Server.Internal.Alerts is in memory: replay what it holds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := e.m.Watch(ctx, "root", queues.AlertQueue, queues.WatchOptions{StartTime: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for row := range seq {
		name, _ := row.Get("name")
		src, _ := row.Get("_Source")
		got[name.(string)] = src.(string)
		if len(got) == 2 {
			break
		}
	}
	if got["by-admin"] != "admin" || got["by-owner"] != "server" {
		t.Errorf("alerts stamped %v", got)
	}
}
