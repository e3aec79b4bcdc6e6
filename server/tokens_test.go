package server_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
)

// local serves the server's socket handler (the folder owner, no token)
// on loopback.
func (e *apiEnv) local() *httptest.Server {
	ts := httptest.NewServer(e.srv.LocalHandler())
	e.t.Cleanup(ts.Close)
	return ts
}

// issue creates a token and remembers its secret under its name.
func (e *apiEnv) issue(tk server.Token) string {
	e.t.Helper()
	secret, err := server.IssueToken(context.Background(), e.m, e.disk, tk, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	e.tokens[tk.Name] = secret
	return secret
}

func call(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stream is an open long-running response: its lines arrive on lines,
// which is closed when the body ends.
type stream struct {
	lines chan string
}

func openStream(t *testing.T, method, url, secret, body string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	s := &stream{lines: make(chan string, 1000)}
	go func() {
		defer close(s.lines)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if line = strings.TrimSpace(line); line != "" {
				s.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// next waits for the stream's next line.
func (s *stream) next(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-s.lines:
		if !ok {
			t.Fatal("stream ended")
		}
		return line
	case <-time.After(within):
		t.Fatalf("no line within %v", within)
	}
	return ""
}

// ends reports whether the stream's body ends before the deadline.
func (s *stream) ends(within time.Duration) bool {
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.lines:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func TestTokenCreateRefusals(t *testing.T) {
	e := newAPIEnv(t, 0)
	long := strings.Repeat("n", server.MaxTokenName)
	tests := []struct {
		name string
		tk   server.Token
		msg  string // "" accepted
	}{
		{"duplicate name", server.Token{Name: "reader", Role: server.RoleAdmin, Org: "root"}, "org root already has a token named reader"},
		{"duplicate name, other case", server.Token{Name: "Reader", Role: server.RoleReader, Org: "root"}, "org root already has a token named reader"},
		{"same name in another org", server.Token{Name: "reader", Role: server.RoleReader, Org: "acme"}, ""},
		{"reserved server", server.Token{Name: "server", Role: server.RoleAdmin, Org: "root"}, `token name "server" is reserved`},
		{"reserved LOCAL", server.Token{Name: "LOCAL", Role: server.RoleAdmin, Org: "root"}, `token name "LOCAL" is reserved`},
		{"reserved Anonymous", server.Token{Name: "Anonymous", Role: server.RoleReader, Org: "acme"}, `token name "Anonymous" is reserved`},
		{"reserved system", server.Token{Name: "system", Role: server.RoleReader, Org: "root"}, `token name "system" is reserved`},
		{"reserved vqlq", server.Token{Name: "VQLQ", Role: server.RoleReader, Org: "root"}, `token name "VQLQ" is reserved`},
		{"no name", server.Token{Role: server.RoleReader, Org: "root"}, "a token needs a name"},
		{"space in name", server.Token{Name: "a b", Role: server.RoleReader, Org: "root"}, `invalid token name "a b"`},
		{"slash in name", server.Token{Name: "a/b", Role: server.RoleReader, Org: "root"}, `invalid token name "a/b"`},
		{"name too long", server.Token{Name: long + "x", Role: server.RoleReader, Org: "root"}, "token name is 65 characters long; at most 64"},
		{"longest name", server.Token{Name: long, Role: server.RoleReader, Org: "root"}, ""},
		{"name of every allowed character", server.Token{Name: "Fwd_2.a-Z9", Role: server.RoleReader, Org: "root"}, ""},
		{"unknown queue", server.Token{Name: "p2", Role: server.RolePublisher, Org: "root", Queues: []string{"Server.Events.Nope"}}, "--queue Server.Events.Nope: there is no such queue in org root"},
		{"one of two queues unknown", server.Token{Name: "p2", Role: server.RolePublisher, Org: "root", Queues: []string{"Server.Events.Receive", "Custom.Nope/Src"}}, "--queue Custom.Nope/Src: there is no such queue in org root"},
		{"internal queue", server.Token{Name: "p2", Role: server.RolePublisher, Org: "root", Queues: []string{"Server.Internal.Label"}}, "--queue Server.Internal.Label: cannot send to Server.Internal.Label: it is an INTERNAL artifact; a token may only send to SERVER_EVENT queues"},
		{"publisher without queue", server.Token{Name: "p2", Role: server.RolePublisher, Org: "root"}, "a publisher token needs at least one --queue"},
		{"bad role", server.Token{Name: "x", Role: "root", Org: "root"}, `role must be reader, publisher, admin, metrics or enroll, not "root"`},
		{"expiry in the past", server.Token{Name: "x", Role: server.RoleReader, Org: "root", Expires: time.Now().Add(-time.Second)}, "--expires must be in the future"},
		{"publisher of a known queue", server.Token{Name: "p2", Role: server.RolePublisher, Org: "root", Queues: []string{"Server.Events.Other"}}, ""},
	}
	for _, tt := range tests {
		secret, err := server.IssueToken(context.Background(), e.m, e.disk, tt.tk, "test")
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
			t.Errorf("%s: got %q, %v; want %q", tt.name, secret, err, tt.msg)
		}
	}
	// Through the socket, the same rules, as a 400.
	l := e.local()
	status, body := call(t, "POST", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens", "", `{"name":"admin","role":"admin"}`)
	if status != 400 || !strings.Contains(body, `"error":"org root already has a token named admin: choose another name, or revoke it first (vqlq token revoke admin --org root)"`) {
		t.Errorf("duplicate through the socket: %d %s", status, body)
	}
	status, body = call(t, "POST", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens", "", `{"name":"fwd","role":"publisher","queues":["Nope"]}`)
	if status != 400 || !strings.Contains(body, "--queue Nope: there is no such queue in org root") {
		t.Errorf("unknown queue through the socket: %d %s", status, body)
	}
	// Only the refused names are missing.
	list, _ := server.ListTokens(e.disk, "root")
	var names []string
	for _, tk := range list {
		names = append(names, tk.Name)
	}
	if got := strings.Join(names, " "); got != "Fwd_2.a-Z9 admin "+long+" p2 pub reader" {
		t.Errorf("root's tokens: %s", got)
	}
}

func TestTokenListShowsNoSecret(t *testing.T) {
	e := newAPIEnv(t, 0)
	secret := e.issue(server.Token{Name: "short", Role: server.RoleReader, Org: "root", Expires: time.Now().Add(time.Hour)})
	hash := sha256.Sum256([]byte(secret))
	hashHex := hex.EncodeToString(hash[:])
	if status, _ := e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "short", ""); status != 200 {
		t.Fatalf("short: %d", status)
	}
	l := e.local()
	status, body := call(t, "GET", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens", "", "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	for name, s := range e.tokens {
		if strings.Contains(body, s) || strings.Contains(body, strings.TrimPrefix(s, "vqlq_")) {
			t.Errorf("the list shows the secret of %s: %s", name, body)
		}
		h := sha256.Sum256([]byte(s))
		if strings.Contains(body, hex.EncodeToString(h[:8])) {
			t.Errorf("the list shows the hash of %s: %s", name, body)
		}
	}
	if strings.Contains(body, hashHex[:16]) {
		t.Errorf("the list shows the hash: %s", body)
	}
	var infos []server.TokenInfo
	if err := json.Unmarshal([]byte(body), &infos); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
		if i.Org != "root" || i.Created.IsZero() {
			t.Errorf("%+v", i)
		}
		switch i.Name {
		case "short":
			if i.Role != "reader" || i.Expires == nil || i.Expired || i.LastUsed == nil || time.Since(*i.LastUsed) > time.Minute {
				t.Errorf("short: %+v", i)
			}
		case "pub":
			if strings.Join(i.Queues, ",") != "Server.Events.Receive" || i.Expires != nil || i.LastUsed != nil {
				t.Errorf("pub: %+v", i)
			}
		}
	}
	if strings.Join(names, " ") != "admin pub reader short" {
		t.Errorf("names %v (acme's tokens are not root's)", names)
	}
	for _, field := range []string{`"name":"short"`, `"role":"reader"`, `"org":"root"`, `"queues":["Server.Events.Receive"]`, `"created":"`, `"last_used":"`, `"last_used":null`, `"expires":"`, `"expires":null`, `"expired":false`} {
		if !strings.Contains(body, field) {
			t.Errorf("list lacks %s: %s", field, body)
		}
	}
	if status, body := call(t, "GET", l.URL+"/api/v1/orgs/acme/tokens", "", ""); status != 200 || !strings.Contains(body, `"name":"acme-admin"`) || strings.Contains(body, `"name":"admin"`) {
		t.Errorf("acme: %d %s", status, body)
	}
	// Tokens are managed on the server's machine only.
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/v1/orgs/" + rootOrg + "/tokens"},
		{"POST", "/api/v1/orgs/" + rootOrg + "/tokens"},
		{"DELETE", "/api/v1/orgs/" + rootOrg + "/tokens/reader"},
	} {
		status, body := e.do(tt.method, tt.path, "admin", `{"name":"x","role":"admin"}`)
		if status != 403 || body != `{"error":"tokens are managed with `+"`vqlq token`"+` on the server's machine","status":403}`+"\n" {
			t.Errorf("%s %s with a token: %d %s", tt.method, tt.path, status, body)
		}
	}
}

// The last use is kept by the server and written to the store once, not
// per request; shutdown writes the rest.
func TestTokenLastUsedWrittenSeldom(t *testing.T) {
	e := newAPIEnv(t, 0)
	stored := func() time.Time {
		list, err := server.ListTokens(e.disk, "root")
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range list {
			if tk.Name == "reader" {
				return tk.LastUsed
			}
		}
		t.Fatal("reader is gone")
		return time.Time{}
	}
	if !stored().IsZero() {
		t.Fatal("used before use")
	}
	e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "reader", "")
	first := stored()
	if first.IsZero() || time.Since(first) > time.Minute {
		t.Fatalf("first use not stored: %v", first)
	}
	time.Sleep(20 * time.Millisecond)
	for range 20 {
		e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "reader", "")
	}
	if got := stored(); !got.Equal(first) {
		t.Errorf("stored last use changed within the minute: %v then %v", first, got)
	}
	list, _ := e.srv.ListTokens("root")
	var seen time.Time
	for _, tk := range list {
		if tk.Name == "reader" {
			seen = tk.LastUsed
		}
	}
	if !seen.After(first) {
		t.Errorf("the server's list shows %v, not the later use after %v", seen, first)
	}
	e.srv.Shutdown(context.Background())
	if got := stored(); !got.Equal(seen) {
		t.Errorf("after shutdown the store has %v, want %v", got, seen)
	}
}

func TestRevokedTokenRefusedAtOnce(t *testing.T) {
	e := newAPIEnv(t, 0)
	l := e.local()
	if status, _ := e.do("POST", send, "pub", `{"a":1}`); status != 200 {
		t.Fatalf("pub before revoke: %d", status)
	}
	status, body := call(t, "DELETE", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens/pub", "", "")
	if status != 200 || !strings.HasPrefix(body, `{"revoked":[{"name":"pub","role":"publisher","org":"root"`) || strings.Contains(body, e.tokens["pub"]) {
		t.Fatalf("revoke: %d %s", status, body)
	}
	status, body = e.do("POST", send, "pub", `{"a":2}`)
	if status != 401 || body != `{"error":"invalid token","status":401}`+"\n" {
		t.Errorf("pub after revoke: %d %q", status, body)
	}
	// Revoked in the store directly (no request through the server).
	if _, err := server.RevokeToken(context.Background(), e.m, e.disk, "root", "reader", "test"); err != nil {
		t.Fatal(err)
	}
	status, body = e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "reader", "")
	if status != 401 || body != `{"error":"invalid token","status":401}`+"\n" {
		t.Errorf("reader after revoke: %d %q", status, body)
	}
	// Unknown names, other orgs' tokens.
	status, body = call(t, "DELETE", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens/pub", "", "")
	if status != 404 || !strings.Contains(body, `org root has no token named \"pub\"`) {
		t.Errorf("second revoke: %d %s", status, body)
	}
	if status, _ := call(t, "DELETE", l.URL+"/api/v1/orgs/"+rootOrg+"/tokens/acme-admin", "", ""); status != 404 {
		t.Errorf("root revoked acme's token: %d", status)
	}
	if status, _ := e.do("GET", "/api/v1/orgs/acme/queues", "acme-admin", ""); status != 200 {
		t.Errorf("acme-admin: %d", status)
	}
	if got := e.stored("root", "Server.Events.Receive"); len(got) != 1 {
		t.Errorf("stored %v", got)
	}
	audit := strings.Join(e.stored("root", queues.AuditQueue), "\n")
	for _, want := range []string{
		`"operation":"token_revoke","principal":"local","details":{"name":"pub","role":"publisher"`,
		`"operation":"token_revoke","principal":"test","details":{"name":"reader","role":"reader"`,
	} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
}

// A revoked token's watch streams and running queries end within seconds,
// whether it is revoked through the server or in the store.
func TestRevokeEndsOpenStreams(t *testing.T) {
	for _, how := range []string{"through the server", "in the store"} {
		t.Run(how, func(t *testing.T) {
			e := newAPIEnv(t, 0)
			e.issue(server.Token{Name: "other", Role: server.RoleReader, Org: "root"})
			watch := openStream(t, "GET", e.http.URL+send, e.tokens["reader"], "")
			query := openStream(t, "POST", e.http.URL+"/api/v1/orgs/"+rootOrg+"/query", e.tokens["reader"], "SELECT * FROM clock(period=1)")
			if line := query.next(t, 10*time.Second); line != `{"type":"begin","statement":0}` {
				t.Fatalf("query: %s", line)
			}
			if line := query.next(t, 10*time.Second); !strings.HasPrefix(line, `{"type":"row"`) {
				t.Fatalf("query: %s", line)
			}
			// Another token's stream is not touched.
			bystander := openStream(t, "GET", e.http.URL+send, e.tokens["other"], "")
			if how == "through the server" {
				if status, body := call(t, "DELETE", e.local().URL+"/api/v1/orgs/"+rootOrg+"/tokens/reader", "", ""); status != 200 {
					t.Fatalf("revoke: %d %s", status, body)
				}
			} else if _, err := server.RevokeToken(context.Background(), e.m, e.disk, "root", "reader", "test"); err != nil {
				t.Fatal(err)
			}
			if !watch.ends(10 * time.Second) {
				t.Error("the revoked token's watch is still open")
			}
			if !query.ends(10 * time.Second) {
				t.Error("the revoked token's query is still running")
			}
			e.do("POST", send, "admin", `{"after":"revoke"}`)
			if line := bystander.next(t, 10*time.Second); !strings.HasPrefix(line, `{"after":"revoke"`) {
				t.Errorf("bystander got %s", line)
			}
			if status, _ := e.do("GET", send, "reader", ""); status != 401 {
				t.Errorf("reader after revoke: %d", status)
			}
		})
	}
}

func TestExpiredToken(t *testing.T) {
	e := newAPIEnv(t, 0)
	expires := time.Now().Add(2 * time.Second)
	e.issue(server.Token{Name: "brief", Role: server.RoleReader, Org: "root", Expires: expires})
	watch := openStream(t, "GET", e.http.URL+send, e.tokens["brief"], "")
	query := openStream(t, "POST", e.http.URL+"/api/v1/orgs/"+rootOrg+"/query", e.tokens["brief"], "SELECT * FROM clock(period=1)")
	if line := query.next(t, 10*time.Second); line != `{"type":"begin","statement":0}` {
		t.Fatalf("query: %s", line)
	}
	e.do("POST", send, "admin", `{"n":1}`)
	if line := watch.next(t, 10*time.Second); !strings.HasPrefix(line, `{"n":1,`) {
		t.Fatalf("watch: %s", line)
	}
	if !watch.ends(15 * time.Second) {
		t.Error("the expired token's watch is still open")
	}
	if !query.ends(15 * time.Second) {
		t.Error("the expired token's query is still running")
	}
	for time.Now().Before(expires) {
		time.Sleep(50 * time.Millisecond)
	}
	status, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", "brief", "")
	want := `{"error":"token brief expired at ` + expires.UTC().Format(time.RFC3339) + `","status":401}` + "\n"
	if status != 401 || body != want {
		t.Errorf("expired: %d %q, want %q", status, body, want)
	}
	// It is listed, as expired, until revoked.
	list, _ := e.srv.ListTokens("root")
	found := false
	for _, tk := range list {
		if tk.Name == "brief" {
			found = tk.Expired(time.Now()) && tk.Info(time.Now()).Expired
		}
	}
	if !found {
		t.Errorf("brief not listed as expired: %+v", list)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newAPIEnv(t, 0)
	secret := e.tokens["reader"]
	tests := []struct {
		header string
		status int
	}{
		{"Bearer " + secret, 200},
		{"bearer " + secret, 200},
		{"BEARER " + secret, 200},
		{"bEaReR " + secret, 200},
		{"  Bearer    " + secret + "  ", 200},
		{"Bearer\t" + secret, 200},
		{"Basic " + secret, 401},
		{"Bearer" + secret, 401},
		{"Bearer", 401},
		{"Bearer " + secret + " extra", 401},
		{secret, 401},
		{"", 401},
	}
	for _, tt := range tests {
		status, body := call(t, "GET", e.http.URL+"/api/v1/orgs/"+rootOrg+"/queues", tt.header, "")
		if status != tt.status {
			t.Errorf("Authorization: %q: %d %s", tt.header, status, body)
		}
		if status == 401 && !strings.Contains(body, "missing bearer token") {
			t.Errorf("Authorization: %q: %s", tt.header, body)
		}
	}
}
