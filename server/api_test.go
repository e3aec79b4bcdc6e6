package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
)

// apiEnv is a server on a real badger store, served over loopback HTTP.
type apiEnv struct {
	t      testing.TB
	m      *queues.Manager
	disk   *queues.BadgerStore
	srv    *server.Server
	http   *httptest.Server
	tokens map[string]string
}

func newAPIEnv(t testing.TB, maxRow int) *apiEnv {
	return newAPIEnvWith(t, func(o *server.Options) { o.MaxRowBytes = maxRow })
}

// newAPIEnvWith is newAPIEnv with options of the test's own.
func newAPIEnvWith(t testing.TB, set func(*server.Options)) *apiEnv {
	m, disk := newTestManager(t, queues.Options{}, "Server.Events.Receive", "Server.Events.Other")
	e := &apiEnv{t: t, m: m, disk: disk, tokens: map[string]string{}}
	provider := func() (*queues.Manager, error) { return m, nil }
	opts := server.Options{Manager: m, KV: disk, Engine: vqlq.NewQueueEngine(provider)}
	set(&opts)
	e.srv = server.New(opts)
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.http.Close)
	for _, tk := range []server.Token{
		{Name: "admin", Role: server.RoleAdmin, Org: "root"},
		{Name: "reader", Role: server.RoleReader, Org: "root"},
		{Name: "pub", Role: server.RolePublisher, Org: "root", Queues: []string{"Server.Events.Receive"}},
		{Name: "acme-admin", Role: server.RoleAdmin, Org: "acme"},
	} {
		secret, err := server.IssueToken(context.Background(), m, disk, tk, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[tk.Name] = secret
	}
	return e
}

func (e *apiEnv) do(method, path, token, body string, header ...string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if token != "" {
		secret, ok := e.tokens[token]
		if !ok {
			secret = "vqlq_not-a-real-token"
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *apiEnv) stored(org, queue string) []string {
	seq, err := e.m.Source(context.Background(), org, queue, time.Time{}, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for row := range seq {
		b, _ := json.Marshal(row)
		out = append(out, string(b))
	}
	return out
}

// rootOrg is the default org, by name.
const rootOrg = queues.DefaultOrg

const send = "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive"

func TestSendRefusals(t *testing.T) {
	e := newAPIEnv(t, 200)
	tests := []struct {
		name, path, token, body string
		status                  int
		msg                     string
	}{
		{"no token", send, "", `{"a":1}`, 401, "missing bearer token"},
		{"wrong token", send, "nobody", `{"a":1}`, 401, "invalid token"},
		{"unknown org", "/api/v1/orgs/nowhere/events/Server.Events.Receive", "admin", `{"a":1}`, 403, "token admin is not valid in org nowhere"},
		{"invalid org", "/api/v1/orgs/no.dots/events/Server.Events.Receive", "admin", `{"a":1}`, 400, `invalid org id "no.dots": an org id is 1 to 64 letters, digits, '_' or '-'`},
		{"org too long", "/api/v1/orgs/" + strings.Repeat("a", 65) + "/events/Server.Events.Receive", "admin", `{"a":1}`, 400, "an org id is 1 to 64 letters"},
		{"other org's token", send, "acme-admin", `{"a":1}`, 403, "token acme-admin is not valid in org root"},
		{"reader may not send", send, "reader", `{"a":1}`, 403, "token reader (reader) may not send to Server.Events.Receive"},
		{"publisher not granted", "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Other", "pub", `{"a":1}`, 403, "may not send to Server.Events.Other"},
		{"malformed JSON", send, "admin", "{\"a\":1}\n{\"a\":", 400, "row 2: malformed JSON"},
		{"row over the limit", send, "admin", `{"a":"` + strings.Repeat("x", 300) + `"}`, 413, "row 1 is 308 bytes, over the limit of 200"},
		{"unknown artifact", "/api/v1/orgs/" + rootOrg + "/events/Custom.Nope", "admin", `{"a":1}`, 404, "send_event: artifact Custom.Nope not known"},
		{"internal queue", "/api/v1/orgs/" + rootOrg + "/events/Server.Internal.Label", "admin", `{"a":1}`, 400, "send_event: cannot send to Server.Internal.Label: it is an INTERNAL artifact; send_event only sends to SERVER_EVENT queues"},
		{"not a dict", send, "admin", `[1, 2]`, 400, "send_event: element 1 of the array (line 1, column 2) must be a dict, not int"},
		{"a list in NDJSON", send, "admin", "{\"a\":1}\n[1]", 400, "send_event: row 2 (line 2) must be a dict, not list"},
		{"empty", send, "admin", ``, 400, "empty body"},
	}
	for _, tt := range tests {
		status, body := e.do("POST", tt.path, tt.token, tt.body)
		var got struct {
			Error  string
			Status int
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != tt.status || got.Status != tt.status || !strings.Contains(got.Error, tt.msg) {
			t.Errorf("%s: %d %s; want %d %q", tt.name, status, body, tt.status, tt.msg)
		}
	}
	if rows := e.stored("root", "Server.Events.Receive"); len(rows) != 0 {
		t.Errorf("refused calls stored %v", rows)
	}
	audit := strings.Join(e.stored("root", queues.AuditQueue), "\n")
	for _, want := range []string{`"operation":"token_create"`, `"operation":"refused","principal":"anonymous"`, `"reason":"token reader (reader) may not send to Server.Events.Receive"`, `"status":413`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
}

func TestSendStoresAndAnswersStampedRows(t *testing.T) {
	e := newAPIEnv(t, 0)
	status, body := e.do("POST", send, "pub", "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n", "Content-Type", "application/x-ndjson")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if status != 200 || len(lines) != 3 || !strings.HasPrefix(lines[0], `{"n":1,"_ts":`) || !strings.HasSuffix(lines[2], `"_Source":"pub"}`) {
		t.Fatalf("%d %s", status, body)
	}
	status, body = e.do("POST", send, "admin", "{\n  \"n\": 4,\n  \"nested\": {\"k\": [1, 2]}\n}\n")
	if status != 200 || !strings.HasPrefix(body, `{"n":4,"nested":{"k":[1,2]},"_ts":`) {
		t.Fatalf("pretty object: %d %s", status, body)
	}
	rows := e.stored("root", "Server.Events.Receive")
	if len(rows) != 4 || !strings.Contains(rows[3], `"_Source":"admin"`) {
		t.Errorf("stored %v", rows)
	}
}

func TestWatchStreams(t *testing.T) {
	e := newAPIEnv(t, 0)
	e.do("POST", send, "admin", `{"n":1}`)
	for _, sse := range []bool{false, true} {
		req, _ := http.NewRequest("GET", e.http.URL+send+"?start_time=0", nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
		if sse {
			req.Header.Set("Accept", "text/event-stream")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			time.Sleep(200 * time.Millisecond)
			req, _ := http.NewRequest("POST", e.http.URL+send, strings.NewReader(`{"n":2}`))
			req.Header.Set("Authorization", "Bearer "+e.tokens["pub"])
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		r := bufio.NewReader(resp.Body)
		var got []string
		for len(got) < 2 {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("sse=%v: %v after %v", sse, err, got)
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if sse {
				if !strings.HasPrefix(line, "data: ") {
					t.Fatalf("SSE line %q", line)
				}
				line = strings.TrimPrefix(line, "data: ")
			}
			got = append(got, line)
		}
		if !strings.HasPrefix(got[0], `{"n":1,`) || !strings.HasPrefix(got[1], `{"n":2,`) {
			t.Errorf("sse=%v: %v", sse, got)
		}
		if ct := resp.Header.Get("Content-Type"); (sse && ct != "text/event-stream") || (!sse && ct != "application/x-ndjson") {
			t.Errorf("content type %s", ct)
		}
		<-sent
		cancel()
		resp.Body.Close()
	}
	// The watchers went away with their clients.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "reader", "")
		if strings.Contains(body, `"name":"Server.Events.Receive","type":"server_event","persisted":true,"watchers":0`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("watchers still registered after their clients left")
}

func TestQueryStreamsRowsAndLogs(t *testing.T) {
	e := newAPIEnv(t, 0)
	status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "reader", "SELECT _value AS v FROM range(end=2) SELECT * FROM range(end='x')")
	want := []string{
		`{"type":"begin","statement":0}`,
		`{"type":"row","statement":0,"row":{"v":0}}`,
		`{"type":"row","statement":0,"row":{"v":1}}`,
		`{"type":"end","statement":0}`,
		`{"type":"begin","statement":1}`,
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if status != 200 || len(lines) < 7 {
		t.Fatalf("%d %s", status, body)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %s want %s", i, lines[i], w)
		}
	}
	if !strings.HasPrefix(lines[5], `{"type":"log","level":"ERROR","message":"range: Field end should be an int not string`) {
		t.Errorf("log line %s", lines[5])
	}
	// A reader's query cannot change anything.
	_, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "reader", `SELECT send_event(artifact='Server.Events.Receive', row=dict(a=1)) AS s FROM scope()`)
	if !strings.Contains(body, "send_event: permission denied") || len(e.stored("root", "Server.Events.Receive")) != 0 {
		t.Errorf("reader sent: %s", body)
	}
	// A parse error runs nothing.
	status, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "admin", `{"query": "SELECT * FORM x"}`)
	if status != 400 || !strings.Contains(body, `unexpected token \"FORM\" (did you mean FROM?)`) || !strings.Contains(body, `"line":1`) || !strings.Contains(body, `"column":10`) {
		t.Errorf("parse error: %d %s", status, body)
	}
	// Publishers send; they do not query.
	if status, _ := e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "pub", "SELECT 1 FROM scope()"); status != 403 {
		t.Errorf("publisher query: %d", status)
	}
	// A session keeps LETs between requests.
	e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "admin", `{"query": "LET X = 41", "session": "s1"}`)
	_, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "admin", `{"query": "SELECT X + 1 AS y FROM scope()", "session": "s1"}`)
	if !strings.Contains(body, `"row":{"y":42}`) {
		t.Errorf("session: %s", body)
	}
}

func TestQueuesListsTheOrg(t *testing.T) {
	e := newAPIEnv(t, 0)
	e.do("POST", send, "admin", `{"a":1}`)
	status, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "reader", "")
	var rows []server.QueueRow
	if err := json.Unmarshal([]byte(body), &rows); err != nil || status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	found := false
	for _, r := range rows {
		if r.Name == "Server.Events.Receive" {
			found = r.Events == 1 && r.Stored == 1 && r.Persisted && r.LastEvent != nil
		}
	}
	if !found {
		t.Errorf("%s", body)
	}
	if status, body := e.do("GET", "/api/v1/orgs/acme/queues", "acme-admin", ""); status != 200 || !strings.Contains(body, `{"name":"Server.Events.Receive","type":"server_event","persisted":true,"watchers":0,"events":0,"delivered":0,"stored":0`) {
		t.Errorf("acme sees root's events: %d %s", status, body)
	}
}
