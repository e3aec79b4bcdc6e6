package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/server"
	"github.com/vqlq/vqlq/vql"
)

// createToken asks the socket's token API for a token and remembers its
// secret under its name; it returns the status and body of the answer.
func (e *apiEnv) createToken(l *httptest.Server, req server.TokenRequest) (int, string) {
	e.t.Helper()
	b, _ := json.Marshal(req)
	status, body := call(e.t.(*testing.T), "POST", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens", "", string(b))
	if status == 200 {
		var out struct{ Token string }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			e.t.Fatal(err)
		}
		e.tokens[req.Name] = out.Token
	}
	return status, body
}

// listedPermissions is what GET /tokens says each token holds.
func (e *apiEnv) listedPermissions(l *httptest.Server) map[string]string {
	e.t.Helper()
	status, body := call(e.t.(*testing.T), "GET", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens", "", "")
	var infos []server.TokenInfo
	if err := json.Unmarshal([]byte(body), &infos); status != 200 || err != nil {
		e.t.Fatalf("%d %s %v", status, body, err)
	}
	out := map[string]string{}
	for _, i := range infos {
		out[i.Name] = strings.Join(i.Permissions, ",")
	}
	return out
}

func allNames() string {
	names := make([]string, len(vql.AllPermissions))
	for i, p := range vql.AllPermissions {
		names[i] = string(p)
	}
	return strings.Join(names, ",")
}

// TestTokenPermissionSets: a token holds its role's preset and the
// permissions added when it was created through the token API; the
// listing shows the set, names in any case are accepted, unknown ones
// refused with the closest name.
func TestTokenPermissionSets(t *testing.T) {
	e := newAPIEnv(t, 0)
	l := e.local()
	for _, c := range []struct {
		req    server.TokenRequest
		status int
		want   string // the listed set, or the refusal
	}{
		{server.TokenRequest{Name: "r", Role: "reader"}, 200, "READ_RESULTS,ANY_QUERY"},
		{server.TokenRequest{Name: "rn", Role: "reader", Permissions: []string{"network", "READ_RESULTS,machine_state"}}, 200, "READ_RESULTS,ANY_QUERY,NETWORK,MACHINE_STATE"},
		{server.TokenRequest{Name: "pr", Role: "publisher", Queues: []string{"Server.Events.Receive"}, Permissions: []string{"READ_RESULTS"}}, 200, "PUBLISH,READ_RESULTS"},
		{server.TokenRequest{Name: "m", Role: "metrics"}, 200, ""},
		{server.TokenRequest{Name: "a", Role: "admin"}, 200, allNames()},
		{server.TokenRequest{Name: "typo", Role: "reader", Permissions: []string{"NETWRK"}}, 400, `permissions: unknown permission \"NETWRK\" (did you mean NETWORK?)`},
		{server.TokenRequest{Name: "empty", Role: "reader", Permissions: []string{"NETWORK,"}}, 400, "permissions: empty permission name: the permissions are ALL_QUERY, ANY_QUERY"},
		{server.TokenRequest{Name: "a2", Role: "admin", Permissions: []string{"EXECVE"}}, 400, "--permission: an admin token holds every permission already"},
		{server.TokenRequest{Name: "m2", Role: "metrics", Permissions: []string{"PUBLISH"}}, 400, "--permission: a metrics token may only read /metrics"},
	} {
		status, body := e.createToken(l, c.req)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.req.Name, status, body, c.status)
			continue
		}
		if status != 200 && !strings.Contains(body, c.want) {
			t.Errorf("%s: %s, want %s", c.req.Name, body, c.want)
		}
	}
	listed := e.listedPermissions(l)
	for name, want := range map[string]string{"r": "READ_RESULTS,ANY_QUERY", "rn": "READ_RESULTS,ANY_QUERY,NETWORK,MACHINE_STATE",
		"pr": "PUBLISH,READ_RESULTS", "m": "", "a": allNames(), "reader": "READ_RESULTS,ANY_QUERY", "pub": "PUBLISH"} {
		if listed[name] != want {
			t.Errorf("%s lists %q, want %q", name, listed[name], want)
		}
	}
	if _, ok := listed["typo"]; ok {
		t.Error("a refused token was stored")
	}
}

// TestAddedPermissionsTakeEffect: what a token was given is what its
// queries and requests may do — a reader given NETWORK reaches a real
// HTTP server on loopback, a plain reader is refused naming NETWORK; a
// publisher given READ_RESULTS may list consumers, a plain one is refused naming
// READ_RESULTS.
func TestAddedPermissionsTakeEffect(t *testing.T) {
	e := &trustEnv{apiEnv: newAPIEnv(t, 0)}
	l := e.local()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "pong") }))
	defer target.Close()
	for _, req := range []server.TokenRequest{
		{Name: "rn", Role: "reader", Permissions: []string{"NETWORK"}},
		{Name: "pr", Role: "publisher", Queues: []string{"Server.Events.Receive"}, Permissions: []string{"READ_RESULTS"}},
	} {
		if status, body := e.createToken(l, req); status != 200 {
			t.Fatalf("%s: %d %s", req.Name, status, body)
		}
	}
	q := `SELECT Content FROM http_client(url='` + target.URL + `')`
	for _, c := range []struct {
		who, rows, log string
	}{
		{"rn", `{"Content":"pong"}`, ""},
		{"reader", "", "http_client: permission denied: reader (reader) lacks NETWORK"},
	} {
		rows, logs := e.query(c.who, q)
		if strings.Join(rows, "") != c.rows || !strings.Contains(strings.Join(logs, "\n"), c.log) {
			t.Errorf("%s: rows %v, logs %v; want %s, %q", c.who, rows, logs, c.rows, c.log)
		}
	}
	for _, c := range []struct {
		who    string
		status int
		body   string
	}{
		{"pr", 200, ""},
		{"pub", 403, `{"error":"token pub (publisher) lacks READ_RESULTS: it may not list consumers","status":403}` + "\n"},
	} {
		status, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/consumers", c.who, "")
		if status != c.status || (c.body != "" && body != c.body) {
			t.Errorf("%s: %d %s, want %d %s", c.who, status, body, c.status, c.body)
		}
	}
	status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "pub", "SELECT 1 FROM scope()")
	if want := `{"error":"token pub (publisher) lacks ANY_QUERY: it may not query","status":403}` + "\n"; status != 403 || body != want {
		t.Errorf("a publisher's query: %d %s, want 403 %s", status, body, want)
	}
}

// TestTokensStoredWithoutPermissions: a token stored before tokens kept a
// permission set holds its role's preset.
func TestTokensStoredWithoutPermissions(t *testing.T) {
	e := &trustEnv{apiEnv: newAPIEnv(t, 0)}
	for _, c := range []struct{ name, role, want string }{
		{"old-reader", "reader", "READ_RESULTS,ANY_QUERY"},
		{"old-pub", "publisher", "PUBLISH"},
		{"old-admin", "admin", allNames()},
	} {
		secret := "vqlq_" + strings.Repeat("ab", 24) + c.name
		sum := sha256.Sum256([]byte(secret))
		old := `{"id":"x","name":"` + c.name + `","role":"` + c.role + `","org":"root","queues":["Server.Events.Receive"],"created":"2025-01-02T03:04:05Z"}`
		if err := e.disk.Put("tokens/"+hex.EncodeToString(sum[:]), []byte(old)); err != nil {
			t.Fatal(err)
		}
		e.tokens[c.name] = secret
		if got := e.listedPermissions(e.local())[c.name]; got != c.want {
			t.Errorf("%s lists %q, want %q", c.name, got, c.want)
		}
	}
	rows, logs := e.query("old-reader", "SELECT len(list=[1,2]) AS n FROM scope()")
	if strings.Join(rows, "") != `{"n":2}` || len(logs) != 0 {
		t.Errorf("an old reader's query: %v %v", rows, logs)
	}
	if status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/events/Server.Events.Receive", "old-pub", `{"a":1}`); status != 200 {
		t.Errorf("an old publisher's send: %d %s", status, body)
	}
}
