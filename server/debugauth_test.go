package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/server"
)

// debugTestAcmeQueue is a run-time artifact of org acme only: its name
// shows whether a page or a scrape leaks acme.
const debugTestAcmeQueue = "Custom.Acme.Only"

// debugTestTwoOrgs fills an env with activity in root and acme: events,
// an acme-only queue, and a watcher in each org whose description names
// it.
func debugTestTwoOrgs(t *testing.T, e *debugTestEnv) {
	t.Helper()
	if _, err := e.m.SetArtifact(context.Background(), "acme", "name: "+debugTestAcmeQueue+"\ntype: SERVER_EVENT\n", "test"); err != nil {
		t.Fatal(err)
	}
	pull, _ := debugTestWatcher(t, e.m, "root", debugTestQueue, "root-watcher-query")
	debugTestSend(t, e.m, "root", debugTestQueue, 0, 2)
	pull()
	pullAcme, _ := debugTestWatcher(t, e.m, "acme", debugTestAcmeQueue, "acme-watcher-query")
	debugTestSend(t, e.m, "acme", debugTestAcmeQueue, 0, 2)
	pullAcme()
}

// TestDebugAccessByRole asks for the debug page (after logging in, or
// with a bearer token when the login is refused), its JSON and /metrics as
// every kind of caller, and checks the exact status and which orgs,
// queues and query texts each one sees.
func TestDebugAccessByRole(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	debugTestTwoOrgs(t, e)
	local := httptest.NewServer(e.srv.LocalHandler())
	defer local.Close()

	both, rootOnly, acmeOnly := []string{"acme", "root"}, []string{"root"}, []string{"acme"}
	tests := []struct {
		name  string
		token string // by name in the env; "" for none, "vqlq_wrong" unknown, "local" the socket
		// login is the status of POST /debug/login with the token (0: not
		// tried); page, json and metrics of the GETs.
		login, page, json, metrics int
		orgs                       []string // orgs on the page and in the JSON
		queries                    bool     // query texts shown
		metricsOrgs                []string
		process                    bool // Go and process metrics
	}{
		{name: "anonymous", token: "", login: 401, page: 401, json: 401, metrics: 401},
		{name: "unknown token", token: "vqlq_wrong", login: 401, page: 401, json: 401, metrics: 401},
		{name: "publisher", token: "pub", login: 403, page: 403, json: 403, metrics: 403},
		{name: "reader of root", token: "reader", login: 303, page: 200, json: 200, metrics: 403, orgs: rootOnly},
		{name: "metrics of root", token: "metrics", login: 403, page: 403, json: 403, metrics: 200, metricsOrgs: both, process: true},
		{name: "admin of root", token: "admin", login: 303, page: 200, json: 200, metrics: 200, orgs: both, queries: true, metricsOrgs: both, process: true},
		{name: "admin of acme", token: "acme-admin", login: 303, page: 200, json: 200, metrics: 200, orgs: acmeOnly, queries: true, metricsOrgs: acmeOnly},
		{name: "reader of acme", token: "acme-reader", login: 303, page: 200, json: 200, metrics: 403, orgs: acmeOnly},
		{name: "metrics of acme", token: "acme-metrics", login: 403, page: 403, json: 403, metrics: 200, metricsOrgs: acmeOnly},
		{name: "local socket", token: "local", page: 200, json: 200, metrics: 200, orgs: both, queries: true, metricsOrgs: both, process: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetch := func(path string, req debugTestRequest) (int, http.Header, string) {
				if tt.token == "local" {
					resp, err := http.Get(local.URL + path)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp.StatusCode, resp.Header, string(b)
				}
				resp, body := e.do("GET", path, req)
				return resp.StatusCode, resp.Header, body
			}
			bearer := debugTestRequest{bearer: tt.token}
			pageReq := bearer
			if tt.login != 0 {
				secret := e.tokens[tt.token]
				if secret == "" {
					secret = tt.token
				}
				resp, body := e.do("POST", "/debug/login", debugTestRequest{form: url.Values{"token": {secret}}})
				if resp.StatusCode != tt.login {
					t.Fatalf("login: %s, want %d\n%.1000s", resp.Status, tt.login, body)
				}
				if tt.login == 303 {
					pageReq = debugTestRequest{cookie: debugTestCookie(t, resp)}
				} else {
					debugTestNoData(t, "login", body)
					if len(resp.Cookies()) != 0 {
						t.Errorf("a refused login set %v", resp.Cookies())
					}
				}
			}

			// The page, and the JSON with the same credential and with a
			// bearer token.
			status, h, body := fetch("/debug/queues", pageReq)
			if status != tt.page {
				t.Fatalf("page: %d, want %d\n%.1000s", status, tt.page, body)
			}
			if status == 200 {
				debugTestSees(t, "page", body, tt.orgs, tt.queries)
			} else {
				debugTestNoData(t, "page", body)
				if !strings.Contains(body, `<form id="login"`) || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
					t.Errorf("page refused without the login form:\n%.1000s", body)
				}
			}
			for _, req := range []debugTestRequest{pageReq, bearer} {
				status, _, body = fetch("/debug/queues.json", req)
				if status != tt.json {
					t.Fatalf("json: %d, want %d\n%.1000s", status, tt.json, body)
				}
				if status != 200 {
					debugTestNoData(t, "json", body)
					continue
				}
				debugTestSees(t, "json", body, tt.orgs, tt.queries)
				var page debugTestJSON
				if err := json.Unmarshal([]byte(body), &page); err != nil {
					t.Fatal(err)
				}
				var orgs []string
				for _, o := range page.Orgs {
					orgs = append(orgs, o.Org)
				}
				if !slices.Equal(orgs, tt.orgs) {
					t.Errorf("json: orgs %v, want %v", orgs, tt.orgs)
				}
			}

			status, h, body = fetch("/metrics", bearer)
			if status != tt.metrics {
				t.Fatalf("metrics: %d, want %d\n%.1000s", status, tt.metrics, body)
			}
			if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("metrics: 401 with WWW-Authenticate %q", h.Get("WWW-Authenticate"))
			}
			if status != 200 {
				debugTestNoData(t, "metrics", body)
				return
			}
			for _, org := range both {
				want := slices.Contains(tt.metricsOrgs, org)
				if got := strings.Contains(body, `org="`+org+`"`); got != want {
					t.Errorf("metrics: org %s shown %v, want %v", org, got, want)
				}
			}
			if got := strings.Contains(body, debugTestAcmeQueue); got != slices.Contains(tt.metricsOrgs, "acme") {
				t.Errorf("metrics: %s shown %v", debugTestAcmeQueue, got)
			}
			if got := strings.Contains(body, "\ngo_goroutines "); got != tt.process {
				t.Errorf("metrics: Go metrics shown %v, want %v", got, tt.process)
			}
		})
	}
}

// debugTestSees checks which orgs, queues and query texts a page or its
// JSON shows.
func debugTestSees(t *testing.T, what, body string, orgs []string, queries bool) {
	t.Helper()
	for _, org := range []string{"root", "acme"} {
		want := slices.Contains(orgs, org)
		shown := strings.Contains(body, `data-org="`+org+`"`) || strings.Contains(body, `"org": "`+org+`"`)
		if shown != want {
			t.Errorf("%s: org %s shown %v, want %v", what, org, shown, want)
		}
		if got := strings.Contains(body, org+"-watcher-query"); got != (want && queries) {
			t.Errorf("%s: %s's query text shown %v, want %v", what, org, got, want && queries)
		}
	}
	if got := strings.Contains(body, debugTestAcmeQueue); got != slices.Contains(orgs, "acme") {
		t.Errorf("%s: %s shown %v", what, debugTestAcmeQueue, got)
	}
	if got := strings.Contains(body, "query hidden (admin only)"); got == queries {
		t.Errorf("%s: 'query hidden' shown %v with queries %v", what, got, queries)
	}
}

// debugTestNoData checks that a refusal holds nothing of the queues.
func debugTestNoData(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range []string{debugTestQueue, debugTestAcmeQueue, "watcher-query", "vqlq_queue_"} {
		if strings.Contains(body, s) {
			t.Errorf("%s: a refusal shows %q:\n%.1000s", what, s, body)
		}
	}
}

// debugTestCookie is the session cookie a response sets.
func debugTestCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "vqlq_debug" {
			return c
		}
	}
	t.Fatalf("no vqlq_debug cookie in %v", resp.Header.Values("Set-Cookie"))
	return nil
}

// TestDebugLogin checks the login form's answers, its cookie, the checks
// against other sites, logging out, and the audit log.
func TestDebugLogin(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	debugTestTwoOrgs(t, e)
	admin := e.tokens["admin"]
	form := func(token string) url.Values { return url.Values{"token": {token}} }

	// The form, at both addresses, holds no data.
	for _, path := range []string{"/debug/queues", "/debug/login"} {
		resp, body := e.do("GET", path, debugTestRequest{})
		want := map[string]int{"/debug/queues": 401, "/debug/login": 200}[path]
		if resp.StatusCode != want || !strings.Contains(body, `<form id="login" class="login" method="post" action="login">`) ||
			!strings.Contains(body, `<input type="password" id="token" name="token"`) {
			t.Errorf("GET %s: %s\n%s", path, resp.Status, body)
		}
		debugTestNoData(t, path, body)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
	}

	// A good token: a 303 to the page and a cookie that is not the token.
	resp, body := e.do("POST", "/debug/login", debugTestRequest{form: form(admin), header: []string{"Origin", e.http.URL}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/debug/queues" {
		t.Fatalf("login: %s %s\n%s", resp.Status, resp.Header.Get("Location"), body)
	}
	c := debugTestCookie(t, resp)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/debug" || c.Secure || c.MaxAge != 12*3600 {
		t.Errorf("cookie %q: HttpOnly %v, SameSite %v, Path %q, Secure %v, MaxAge %d", resp.Header.Get("Set-Cookie"), c.HttpOnly, c.SameSite, c.Path, c.Secure, c.MaxAge)
	}
	if strings.Contains(c.Value, admin) || strings.Contains(admin, c.Value) || len(c.Value) < 40 {
		t.Errorf("the cookie %q is not a session id", c.Value)
	}
	session := debugTestRequest{cookie: c}
	if resp, _ := e.do("GET", "/debug/queues", session); resp.StatusCode != 200 {
		t.Errorf("page with the cookie: %s", resp.Status)
	}
	if resp, _ := e.do("GET", "/debug/queues.json", session); resp.StatusCode != 200 {
		t.Errorf("JSON with the cookie: %s", resp.Status)
	}
	// The cookie is for the debug page only.
	if resp, _ := e.do("GET", "/metrics", session); resp.StatusCode != 401 {
		t.Errorf("metrics with the cookie: %s", resp.Status)
	}
	if resp, _ := e.do("GET", "/api/v1/orgs/"+rootOrg+"/queues", session); resp.StatusCode != 401 {
		t.Errorf("API with the cookie: %s", resp.Status)
	}

	// A wrong token: the form again, 401, no cookie.
	resp, body = e.do("POST", "/debug/login", debugTestRequest{form: form("vqlq_wrong")})
	if resp.StatusCode != 401 || !strings.Contains(body, `<p class="error" role="alert">Invalid token.</p>`) || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: %s %v\n%s", resp.Status, resp.Cookies(), body)
	}
	debugTestNoData(t, "wrong token", body)
	// A metrics token may not log in.
	resp, body = e.do("POST", "/debug/login", debugTestRequest{form: form(e.tokens["metrics"])})
	if resp.StatusCode != 403 || !strings.Contains(body, "token metrics (metrics) may not see the debug page") || len(resp.Cookies()) != 0 {
		t.Errorf("metrics token: %s\n%s", resp.Status, body)
	}

	// Another site's form, or a browser calling it cross-site: refused.
	for _, h := range [][]string{
		{"Origin", "http://evil.example"},
		{"Origin", "null"},
		{"Origin", strings.Replace(e.http.URL, "127.0.0.1", "localhost", 1)},
		{"Sec-Fetch-Site", "cross-site"},
	} {
		resp, body := e.do("POST", "/debug/login", debugTestRequest{form: form(admin), header: h})
		if resp.StatusCode != 403 || len(resp.Cookies()) != 0 || !strings.Contains(body, "not sent from this server") {
			t.Errorf("login with %s: %s: %s %v", h[0], h[1], resp.Status, resp.Cookies())
		}
		resp, _ = e.do("POST", "/debug/logout", debugTestRequest{cookie: c, header: h})
		if resp.StatusCode != 403 {
			t.Errorf("logout with %s: %s: %s", h[0], h[1], resp.Status)
		}
	}
	if resp, _ := e.do("GET", "/debug/queues", session); resp.StatusCode != 200 {
		t.Errorf("a refused logout ended the session: %s", resp.Status)
	}

	// A made-up cookie: the form, saying the session ended, and the
	// cookie cleared.
	forged := debugTestRequest{cookie: &http.Cookie{Name: "vqlq_debug", Value: "made-up"}}
	resp, body = e.do("GET", "/debug/queues", forged)
	if resp.StatusCode != 401 || !strings.Contains(body, "Your session has ended") {
		t.Errorf("made-up cookie: %s\n%s", resp.Status, body)
	}
	if cl := debugTestCookie(t, resp); cl.MaxAge >= 0 || cl.Value != "" {
		t.Errorf("made-up cookie not cleared: %q", resp.Header.Get("Set-Cookie"))
	}
	debugTestNoData(t, "made-up cookie", body)
	if resp, body := e.do("GET", "/debug/queues.json", forged); resp.StatusCode != 401 || !strings.Contains(body, `"status":401`) {
		t.Errorf("JSON with a made-up cookie: %s %s", resp.Status, body)
	}

	// Logging out ends the session on the server, not only in the browser.
	resp, _ = e.do("POST", "/debug/logout", debugTestRequest{cookie: c, header: []string{"Origin", e.http.URL}})
	if resp.StatusCode != http.StatusSeeOther || debugTestCookie(t, resp).MaxAge >= 0 {
		t.Errorf("logout: %s %q", resp.Status, resp.Header.Get("Set-Cookie"))
	}
	if resp, _ := e.do("GET", "/debug/queues", session); resp.StatusCode != 401 {
		t.Errorf("page after logout: %s", resp.Status)
	}

	// Revoking a token ends its sessions at the next request.
	readerSession := debugTestRequest{cookie: e.login("reader")}
	if resp, _ := e.do("GET", "/debug/queues.json", readerSession); resp.StatusCode != 200 {
		t.Fatalf("reader: %s", resp.Status)
	}
	if _, err := e.srv.RevokeToken(context.Background(), "root", "reader", "test"); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.do("GET", "/debug/queues", readerSession); resp.StatusCode != 401 || !strings.Contains(body, "Your session has ended") {
		t.Errorf("page after revoking the token: %s", resp.Status)
	}

	// Logins and refusals are in the audit log; no token is.
	var audit []string
	seq, err := e.m.Source(context.Background(), "root", "Server.Audit.Logs", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for row := range seq {
		b, _ := json.Marshal(row)
		audit = append(audit, string(b))
	}
	all := strings.Join(audit, "\n")
	for _, want := range []string{`"operation":"debug_login","principal":"admin"`, `"reason":"debug login: invalid token"`,
		`"reason":"debug login from another site refused (Origin http://evil.example)"`, `"reason":"debug page: session ended"`, `"reason":"debug page: session ended: its token was revoked"`,
		`"reason":"debug login: token metrics (metrics) may not see the debug page`} {
		if !strings.Contains(all, want) {
			t.Errorf("audit log lacks %s:\n%s", want, all)
		}
	}
	for name, secret := range e.tokens {
		if strings.Contains(all, secret) {
			t.Errorf("audit log holds the token %s", name)
		}
	}
}

// TestDebugLoginTLS checks that the cookie is Secure over TLS.
func TestDebugLoginTLS(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{tls: true})
	c := e.login("reader")
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS: Secure %v, HttpOnly %v, SameSite %v", c.Secure, c.HttpOnly, c.SameSite)
	}
	if resp, _ := e.do("GET", "/debug/queues", debugTestRequest{cookie: c}); resp.StatusCode != 200 {
		t.Errorf("page over TLS: %s", resp.Status)
	}
}

// TestDebugHidesSecrets runs, through the API, a watcher whose query holds
// an Authorization header and a password, and checks that the page, its
// JSON and queues() show *** and never the secrets; a reader sees no query
// text at all.
func TestDebugHidesSecrets(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	const query = `SELECT *, http_client(url='http://127.0.0.1:9/', headers=dict(Authorization='Bearer SECRET')) AS r, ` +
		`dict(user='bob', password='hunter2') AS login FROM watch_monitoring(artifact='Server.Events.Receive')`
	const shown = `SELECT *, http_client(url='http://127.0.0.1:9/', headers=dict(Authorization='***')) AS r, ` +
		`dict(user='bob', password='***') AS login FROM watch_monitoring(artifact='Server.Events.Receive')`
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.http.URL+"/api/v1/orgs/"+rootOrg+"/query", strings.NewReader(query))
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go io.Copy(io.Discard, resp.Body)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if q := debugTestQueueInfo(e, "root", debugTestQueue); q.Watchers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher never started")
		}
		time.Sleep(20 * time.Millisecond)
	}

	noSecret := func(what, body string) {
		t.Helper()
		if strings.Contains(body, "SECRET") || strings.Contains(body, "hunter2") {
			t.Errorf("%s shows a secret:\n%.3000s", what, body)
		}
	}
	page := e.get("/debug/queues", debugTestRequest{cookie: e.login("admin")}, "text/html")
	noSecret("page", page)
	row := debugTestRow(t, page, "root", debugTestQueue)
	if len(row.queries) != 1 || !strings.Contains(row.queries[0], "Authorization=&#39;***&#39;") || !strings.Contains(row.queries[0], "password=&#39;***&#39;") {
		t.Errorf("page: watchers %q", row.queries)
	}
	jpage, raw := debugTestFetchJSON(t, e, debugTestRequest{bearer: "admin"})
	noSecret("JSON", raw)
	if q := debugTestFind(t, jpage, "root", debugTestQueue); len(q.WatcherList) != 1 || q.WatcherList[0].Query != shown {
		t.Errorf("JSON: watchers %+v, want %s", q.WatcherList, shown)
	}
	noSecret("queues()", debugTestRunVQL(t, e, "admin", "SELECT * FROM queues()"))
	noSecret("metrics", e.get("/metrics", debugTestRequest{bearer: "admin"}, "text/plain"))

	// A reader sees that there is a watcher, not its query.
	page = e.get("/debug/queues", debugTestRequest{cookie: e.login("reader")}, "text/html")
	noSecret("reader's page", page)
	if row := debugTestRow(t, page, "root", debugTestQueue); len(row.queries) != 1 || row.queries[0] != "query hidden (admin only)" {
		t.Errorf("reader's page: watchers %q", row.queries)
	}
	_, raw = debugTestFetchJSON(t, e, debugTestRequest{bearer: "reader"})
	if noSecret("reader's JSON", raw); strings.Contains(raw, "http_client") {
		t.Errorf("reader's JSON shows the query")
	}
}

// TestDeniedCallAuditHidesSecrets checks that the audit row of a call a
// reader may not make holds the query with its secrets hidden.
func TestDeniedCallAuditHidesSecrets(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	debugTestRunVQL(t, e, "reader", `SELECT http_client(url='http://127.0.0.1:9/', headers=dict(Authorization='Bearer SECRET'), `+
		`data=dict(password='hunter2')) AS r FROM scope()`)
	seq, err := e.m.Source(context.Background(), "root", "Server.Audit.Logs", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for row := range seq {
		b, _ := json.Marshal(row)
		rows = append(rows, string(b))
	}
	all := strings.Join(rows, "\n")
	if !strings.Contains(all, `"call":"http_client"`) || !strings.Contains(all, `headers=dict(Authorization='***')`) ||
		!strings.Contains(all, `data=dict(password='***')`) {
		t.Errorf("no audit row of the refused call with *** in:\n%s", all)
	}
	if strings.Contains(all, "SECRET") || strings.Contains(all, "hunter2") {
		t.Errorf("the audit log holds a secret:\n%s", all)
	}
}

// debugTestQueueInfo reads one queue's counters from the Manager.
func debugTestQueueInfo(e *debugTestEnv, org, queue string) (q struct{ Watchers int }) {
	for _, info := range e.m.Queues(org) {
		if info.Name == queue {
			q.Watchers = info.Watchers
		}
	}
	return q
}

// debugTestRunVQL runs VQL through the API and returns the NDJSON answer.
func debugTestRunVQL(t *testing.T, e *debugTestEnv, token, vql string) string {
	t.Helper()
	r, _ := http.NewRequest("POST", e.http.URL+"/api/v1/orgs/"+rootOrg+"/query", strings.NewReader(vql))
	r.Header.Set("Authorization", "Bearer "+e.tokens[token])
	resp, err := e.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"type":"row"`) {
		t.Fatalf("query %s: %s\n%s", vql, resp.Status, b)
	}
	return string(b)
}

// TestAPIRefusesMetricsToken checks that a metrics token reads /metrics
// and nothing else.
func TestAPIRefusesMetricsToken(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/orgs/" + rootOrg + "/events/" + debugTestQueue, `{"a":1}`},
		{"GET", "/api/v1/orgs/" + rootOrg + "/events/" + debugTestQueue, ""},
		{"POST", "/api/v1/orgs/" + rootOrg + "/query", "SELECT 1 FROM scope()"},
		{"GET", "/api/v1/orgs/" + rootOrg + "/queues", ""},
		{"POST", "/api/v1/orgs/" + rootOrg + "/tokens", `{"name":"x","role":"admin"}`},
	} {
		r, _ := http.NewRequest(tc.method, e.http.URL+tc.path, strings.NewReader(tc.body))
		r.Header.Set("Authorization", "Bearer "+e.tokens["metrics"])
		resp, err := e.client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(b), "metrics role") {
			t.Errorf("%s %s: %s %s", tc.method, tc.path, resp.Status, b)
		}
	}
	if resp, _ := e.do("GET", "/metrics", debugTestRequest{bearer: "metrics"}); resp.StatusCode != 200 {
		t.Errorf("metrics: %s", resp.Status)
	}
	// The error for an unknown role names the metrics role.
	if _, err := server.IssueToken(context.Background(), e.m, e.kv, server.Token{Name: "x", Role: "metric", Org: "root"}, "test"); err == nil ||
		!strings.Contains(err.Error(), "reader, publisher, admin, metrics or enroll") {
		t.Errorf("role metric: %v", err)
	}
}
