package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
)

// debugTestQueue is a SERVER_EVENT artifact from the definitions folder,
// as users add them.
const debugTestQueue = "Server.Events.Receive"

// debugTestQuery is the query text a watcher reports.
const debugTestQuery = "SELECT * FROM watch_monitoring(artifact='Server.Events.Receive')"

// debugTestManager is a Manager on a real badger store in a temporary
// folder, with debugTestQueue defined; memory sets the size of INTERNAL
// queues (0: the default). The store also keeps the tokens.
func debugTestManager(t *testing.T, memory int) (*queues.Manager, *queues.BadgerStore) {
	t.Helper()
	var opts queues.Options
	if memory > 0 {
		opts.Memory = queues.NewMemoryStore(memory)
	}
	return newTestManager(t, opts, debugTestQueue)
}

// debugTestEnv is a server (server.New) over a debugTestManager, on
// loopback HTTP, with a token of every role: admin, reader, pub
// (publisher), metrics in root, and acme-admin, acme-reader, acme-metrics
// in org acme.
type debugTestEnv struct {
	t      *testing.T
	m      *queues.Manager
	kv     *queues.BadgerStore
	srv    *server.Server
	http   *httptest.Server
	client *http.Client
	tokens map[string]string
}

// debugTestEnvOptions change a debugTestEnv: the size of memory queues,
// TLS, a handler in front of the server's; local serves the handler of
// the data folder's socket (the owner, without a token) and makes no
// tokens, whose creation would be events in the audit queues.
type debugTestEnvOptions struct {
	memory int
	tls    bool
	local  bool
	wrap   func(http.Handler) http.Handler
}

func newDebugTestEnv(t *testing.T, opts debugTestEnvOptions) *debugTestEnv {
	t.Helper()
	m, kv := debugTestManager(t, opts.memory)
	provider := func() (*queues.Manager, error) { return m, nil }
	srv := server.New(server.Options{Manager: m, KV: kv, Engine: vqlq.NewQueueEngine(provider)})
	h := srv.Handler()
	if opts.local {
		h = srv.LocalHandler()
	}
	if opts.wrap != nil {
		h = opts.wrap(h)
	}
	e := &debugTestEnv{t: t, m: m, kv: kv, srv: srv, tokens: map[string]string{}}
	if opts.tls {
		e.http = httptest.NewTLSServer(h)
	} else {
		e.http = httptest.NewServer(h)
	}
	t.Cleanup(e.http.Close)
	// The tests look at each response, redirects included.
	e.client = e.http.Client()
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if opts.local {
		return e
	}
	for _, tk := range []server.Token{
		{Name: "admin", Role: server.RoleAdmin, Org: "root"},
		{Name: "reader", Role: server.RoleReader, Org: "root"},
		{Name: "pub", Role: server.RolePublisher, Org: "root", Queues: []string{debugTestQueue}},
		{Name: "metrics", Role: server.RoleMetrics, Org: "root"},
		{Name: "acme-admin", Role: server.RoleAdmin, Org: "acme"},
		{Name: "acme-reader", Role: server.RoleReader, Org: "acme"},
		{Name: "acme-metrics", Role: server.RoleMetrics, Org: "acme"},
	} {
		secret, err := server.IssueToken(context.Background(), m, kv, tk, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[tk.Name] = secret
	}
	return e
}

// debugTestRequest is one request of a test: a bearer token (by name in
// the env, or any text), a cookie, a login form, extra headers.
type debugTestRequest struct {
	bearer string
	cookie *http.Cookie
	form   url.Values
	header []string // name, value, …
}

// do sends a request and reads the whole answer; redirects are not
// followed.
func (e *debugTestEnv) do(method, path string, req debugTestRequest) (*http.Response, string) {
	e.t.Helper()
	var body io.Reader
	if req.form != nil {
		body = strings.NewReader(req.form.Encode())
	}
	r, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if req.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if req.bearer != "" {
		secret, ok := e.tokens[req.bearer]
		if !ok {
			secret = req.bearer
		}
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	if req.cookie != nil {
		r.AddCookie(req.cookie)
	}
	for i := 0; i+1 < len(req.header); i += 2 {
		r.Header.Set(req.header[i], req.header[i+1])
	}
	resp, err := e.client.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// get fetches a path as a caller and checks the status (200) and content
// type.
func (e *debugTestEnv) get(path string, req debugTestRequest, wantType string) string {
	e.t.Helper()
	resp, body := e.do("GET", path, req)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %s\n%.2000s", path, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
		e.t.Fatalf("GET %s: Content-Type %q, want %s", path, ct, wantType)
	}
	return body
}

// login posts a token's secret to the login form and returns the session
// cookie.
func (e *debugTestEnv) login(name string) *http.Cookie {
	e.t.Helper()
	resp, body := e.do("POST", "/debug/login", debugTestRequest{form: url.Values{"token": {e.tokens[name]}}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %s\n%s", name, resp.Status, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "vqlq_debug" {
			return c
		}
	}
	e.t.Fatalf("login as %s: no cookie in %v", name, resp.Header)
	return nil
}

// debugTestSend sends n events to a queue, numbered from first.
func debugTestSend(t *testing.T, m *queues.Manager, org, queue string, first, n int) {
	t.Helper()
	from := queues.ServerSender
	if strings.HasPrefix(queue, "Server.Internal.") {
		from = queues.Sender{Principal: "server", Internal: true}
	}
	for i := first; i < first+n; i++ {
		if _, err := m.Send(context.Background(), org, queue, ordereddict.NewDict().Set("i", int64(i)), from); err != nil {
			t.Fatal(err)
		}
	}
}

// debugTestWatcher starts a watcher at the end of a queue. Its first pull
// registers it (and waits for an event); stop ends it.
func debugTestWatcher(t *testing.T, m *queues.Manager, org, queue, describe string) (pull func() *ordereddict.Dict, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	seq, err := m.Watch(ctx, org, queue, queues.WatchOptions{Describe: describe})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	next, stopPull := iter.Pull(seq)
	stop = func() { stopPull(); cancel() }
	t.Cleanup(stop)
	return func() *ordereddict.Dict {
		t.Helper()
		row, ok := next()
		if !ok {
			t.Fatal("watcher ended")
		}
		return row
	}, stop
}

// debugTestJSON is /debug/queues.json as a client reads it.
type debugTestJSON struct {
	Updated time.Time `json:"updated"`
	Viewer  struct {
		Name    string `json:"name"`
		Role    string `json:"role"`
		Org     string `json:"org"`
		AllOrgs bool   `json:"all_orgs"`
	} `json:"viewer"`
	Orgs []struct {
		Org      string               `json:"org"`
		Active   int                  `json:"active"`
		Watchers int                  `json:"watchers"`
		Events   int64                `json:"events"`
		Queues   []debugTestQueueJSON `json:"queues"`
	} `json:"orgs"`
}

func debugTestFetchJSON(t *testing.T, e *debugTestEnv, req debugTestRequest) (debugTestJSON, string) {
	t.Helper()
	body := e.get("/debug/queues.json", req, "application/json")
	var page debugTestJSON
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatalf("queues.json: %v\n%s", err, body)
	}
	return page, body
}

// TestDebugQueuesJSON checks the JSON, as the server's owner reads it
// through the data folder's socket, against what was sent and watched, in
// two orgs.
func TestDebugQueuesJSON(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{local: true})
	m := e.m
	admin := debugTestRequest{}

	pull, stop := debugTestWatcher(t, m, "root", debugTestQueue, debugTestQuery)
	before := time.Now()
	debugTestSend(t, m, "root", debugTestQueue, 0, 3)
	pull()
	debugTestSend(t, m, "acme", debugTestQueue, 0, 2)

	page, raw := debugTestFetchJSON(t, e, admin)
	if d := time.Since(page.Updated); d < 0 || d > time.Minute {
		t.Errorf("updated %v", page.Updated)
	}
	if v := page.Viewer; v.Name != "local" || v.Role != "admin" || v.Org != "root" || !v.AllOrgs {
		t.Errorf("viewer %+v", v)
	}
	var orgs []string
	for _, o := range page.Orgs {
		orgs = append(orgs, o.Org)
	}
	if fmt.Sprint(orgs) != "[acme root]" {
		t.Fatalf("orgs %v", orgs)
	}
	root, acme := page.Orgs[1], page.Orgs[0]
	if root.Active != 1 || root.Watchers != 1 || root.Events != 3 || acme.Active != 1 || acme.Watchers != 0 || acme.Events != 2 {
		t.Errorf("org totals: root %d active, %d watchers, %d events; acme %d, %d, %d",
			root.Active, root.Watchers, root.Events, acme.Active, acme.Watchers, acme.Events)
	}
	if len(root.Queues) != len(acme.Queues) || len(root.Queues) < 20 {
		t.Errorf("root has %d queues, acme %d: every event artifact has a queue in every org", len(root.Queues), len(acme.Queues))
	}
	found := 0
	for _, q := range root.Queues {
		switch q.Name {
		case debugTestQueue:
			found++
			if q.Type != "server_event" || !q.Persisted || !q.Active || q.Watchers != 1 || q.Events != 3 ||
				q.Delivered != 1 || q.Backlog != 2 || q.Dropped != 0 || q.Stored != 3 {
				t.Errorf("root %s: %+v", q.Name, q)
			}
			if q.LastEvent == nil || q.LastEvent.Before(before.Add(-time.Second)) || q.LastEvent.After(time.Now()) {
				t.Errorf("root %s: last_event %v", q.Name, q.LastEvent)
			}
			if len(q.WatcherList) != 1 {
				t.Fatalf("root %s: watchers %+v", q.Name, q.WatcherList)
			}
			w := q.WatcherList[0]
			if w.Query != debugTestQuery || w.Backlog != 2 || w.Since.Before(before.Add(-time.Second)) || w.Since.After(time.Now()) {
				t.Errorf("root %s: watcher %+v", q.Name, w)
			}
		case "Server.Internal.Ping":
			found++
			if q.Type != "internal" || q.Persisted || q.Active || q.Watchers != 0 || q.Events != 0 || q.Stored != 0 ||
				q.LastEvent != nil || q.WatcherList == nil || len(q.WatcherList) != 0 {
				t.Errorf("idle root %s: %+v", q.Name, q)
			}
		}
	}
	for _, q := range acme.Queues {
		if q.Name == debugTestQueue {
			found++
			if !q.Active || q.Watchers != 0 || q.Events != 2 || q.Delivered != 0 || q.Backlog != 0 || q.Stored != 2 || q.LastEvent == nil {
				t.Errorf("acme %s: %+v", q.Name, q)
			}
		}
	}
	if found != 3 {
		t.Errorf("found %d of the 3 queues looked for", found)
	}
	// An idle queue reads as such, not as missing fields.
	if !strings.Contains(raw, `"last_event": null`) || !strings.Contains(raw, `"watcher_list": []`) {
		t.Errorf("idle queues: want last_event null and watcher_list []:\n%.2000s", raw)
	}

	// The watcher reads on, then stops: the page follows.
	pull()
	pull()
	page, _ = debugTestFetchJSON(t, e, admin)
	if q := debugTestFind(t, page, "root", debugTestQueue); q.Delivered != 3 || q.Backlog != 0 || q.WatcherList[0].Backlog != 0 {
		t.Errorf("after reading all: %+v", q)
	}
	stop()
	page, _ = debugTestFetchJSON(t, e, admin)
	if q := debugTestFind(t, page, "root", debugTestQueue); q.Watchers != 0 || len(q.WatcherList) != 0 || q.Delivered != 3 || !q.Active {
		t.Errorf("after the watcher stopped: %+v", q)
	}
}

// debugTestQueueJSON is one queue of queues.json.
type debugTestQueueJSON struct {
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	Persisted   bool       `json:"persisted"`
	Active      bool       `json:"active"`
	Watchers    int        `json:"watchers"`
	Events      int64      `json:"events"`
	Delivered   int64      `json:"delivered"`
	Backlog     int64      `json:"backlog"`
	Dropped     int64      `json:"dropped"`
	Stored      int64      `json:"stored"`
	LastEvent   *time.Time `json:"last_event"`
	WatcherList []struct {
		Query   string    `json:"query"`
		Next    uint64    `json:"next"`
		Backlog int64     `json:"backlog"`
		Since   time.Time `json:"since"`
	} `json:"watcher_list"`
	Consumers []struct {
		Name     string     `json:"name"`
		Owner    string     `json:"owner"`
		Position uint64     `json:"position"`
		Lag      uint64     `json:"lag"`
		Skipped  uint64     `json:"skipped"`
		LastAck  *time.Time `json:"last_ack"`
		// Forwarder is null unless a forwarder reads the consumer.
		Forwarder *struct {
			Sink        string `json:"sink"`
			Forwarded   int64  `json:"forwarded"`
			Retries     int64  `json:"retries"`
			DeadLetters int64  `json:"dead_letters"`
			LastError   string `json:"last_error"`
		} `json:"forwarder"`
	} `json:"consumers"`
}

// debugTestConsumer makes a named consumer of principal "reader" that has
// acknowledged the first n events, and is no longer attached.
func debugTestConsumer(t *testing.T, m *queues.Manager, org, queue, name string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seq, err := m.Watch(ctx, org, queue, queues.WatchOptions{Consumer: name, Principal: "reader", StartTime: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iter.Pull(seq)
	defer stop()
	for i := 0; i <= n; i++ { // asking for event n+1 acknowledges event n
		if _, ok := next(); !ok {
			t.Fatal("consumer ended")
		}
	}
}

// TestDebugPageListsConsumers: a named consumer shows under its queue,
// attached or not, with its owner, position, lag and last acknowledgement,
// in queues.json and on the page.
func TestDebugPageListsConsumers(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	m := e.m
	debugTestSend(t, m, "root", debugTestQueue, 0, 5)
	before := time.Now()
	debugTestConsumer(t, m, "root", debugTestQueue, "fwd", 2)
	admin := debugTestRequest{cookie: e.login("admin")}

	page, raw := debugTestFetchJSON(t, e, admin)
	q := debugTestFind(t, page, "root", debugTestQueue)
	if len(q.Consumers) != 1 {
		t.Fatalf("consumers %+v", q.Consumers)
	}
	c := q.Consumers[0]
	if c.Name != "fwd" || c.Owner != "reader" || c.Position != 2 || c.Lag != 3 || c.Skipped != 0 || c.LastAck == nil || c.LastAck.Before(before.Add(-time.Second)) {
		t.Errorf("consumer %+v", c)
	}
	if idle := debugTestFind(t, page, "root", "Server.Internal.Ping"); idle.Consumers == nil || len(idle.Consumers) != 0 {
		t.Errorf("a queue without consumers: %+v", idle.Consumers)
	}
	if !strings.Contains(raw, `"consumers": []`) {
		t.Errorf("queues without consumers should list []:\n%.1500s", raw)
	}

	_, html := e.do("GET", "/debug/queues", admin)
	li := regexp.MustCompile(`(?s)<li class="consumer">(.*?)</li>`).FindStringSubmatch(html)
	if li == nil {
		t.Fatalf("no consumer on the page:\n%s", html)
	}
	text := debugTestText(li[1])
	if !regexp.MustCompile(`^consumer fwd of reader · at #2 · lag 3 · last ack \d\d:\d\d:\d\d \((just now|\d+s ago)\)$`).MatchString(text) {
		t.Errorf("consumer line %q", text)
	}
}

// TestDebugPageShowsForwarders: while a forwarder (here its hold on the
// consumer, as elastic_upload() takes it) reads a consumer, the consumer
// shows its sink and counts, in queues.json and on the page; once it
// stops, forwarder is null again.
func TestDebugPageShowsForwarders(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	m := e.m
	debugTestSend(t, m, "root", debugTestQueue, 0, 3)
	stats := queues.NewForwardStats("elastic_upload http://127.0.0.1:9200")
	ctx, cancel := context.WithCancel(queues.WithDeferred(context.Background(), queues.NewDeferred(stats)))
	seq, err := m.Watch(ctx, "root", debugTestQueue, queues.WatchOptions{Consumer: "es", StartTime: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iter.Pull(seq)
	if _, ok := next(); !ok {
		t.Fatal("watch ended")
	}
	stats.Forwarded(2)
	stats.Retried(errors.New("1 document: HTTP 429"), time.Now())
	stats.DeadLettered("status 400: mapper_parsing_exception: failed to parse", time.Now())
	admin := debugTestRequest{cookie: e.login("admin")}
	page, _ := debugTestFetchJSON(t, e, admin)
	q := debugTestFind(t, page, "root", debugTestQueue)
	if len(q.Consumers) != 1 || q.Consumers[0].Forwarder == nil {
		t.Fatalf("consumers %+v", q.Consumers)
	}
	f := *q.Consumers[0].Forwarder
	if f.Sink != "elastic_upload http://127.0.0.1:9200" || f.Forwarded != 2 || f.Retries != 1 || f.DeadLetters != 1 || f.LastError != "status 400: mapper_parsing_exception: failed to parse" {
		t.Errorf("forwarder %+v", f)
	}
	_, html := e.do("GET", "/debug/queues", admin)
	li := regexp.MustCompile(`(?s)<li class="consumer">(.*?)</li>`).FindStringSubmatch(html)
	if li == nil {
		t.Fatalf("no consumer on the page:\n%s", html)
	}
	want := ` · forwarder elastic_upload http://127.0.0.1:9200: 2 forwarded · 1 retries · 1 dead letters · last error status 400: mapper_parsing_exception: failed to parse`
	if text := debugTestText(li[1]); !strings.HasSuffix(text, want) {
		t.Errorf("consumer line %q, want it to end %q", text, want)
	}
	stop()
	cancel()
	page, _ = debugTestFetchJSON(t, e, admin)
	if c := debugTestFind(t, page, "root", debugTestQueue).Consumers; len(c) != 1 || c[0].Forwarder != nil {
		t.Errorf("after the forwarder stopped: %+v", c)
	}
}

// debugTestText is the text of an HTML fragment, its spaces folded.
func debugTestText(html string) string {
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, "")
	return strings.Join(strings.Fields(text), " ")
}

func debugTestFind(t *testing.T, page debugTestJSON, org, queue string) debugTestQueueJSON {
	t.Helper()
	for _, o := range page.Orgs {
		for _, q := range o.Queues {
			if o.Org == org && q.Name == queue {
				return q
			}
		}
	}
	t.Fatalf("queue %s of org %s not listed", queue, org)
	return debugTestQueueJSON{}
}

// TestDebugPageServerSide reads the page as a client without JavaScript
// does, logged in as an admin of root: the table is there, text is
// escaped, nothing is loaded from elsewhere.
func TestDebugPageServerSide(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{})
	m := e.m
	const nasty = `SELECT * FROM x WHERE a = "</code><script>alert(1)</script>" & 'b'`
	pull, _ := debugTestWatcher(t, m, "root", debugTestQueue, nasty)
	debugTestSend(t, m, "root", debugTestQueue, 0, 1234)
	pull()
	admin := debugTestRequest{cookie: e.login("admin")}

	resp, page := e.do("GET", "/debug/queues", admin)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /debug/queues: %s %s\n%.2000s", resp.Status, resp.Header.Get("Content-Type"), page)
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Errorf("watcher text not escaped")
	}
	if !strings.Contains(page, "&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("watcher text missing")
	}
	row := debugTestRow(t, page, "root", debugTestQueue)
	if row.cells["events"] != "1,234" || row.cells["delivered"] != "1" || row.cells["backlog"] != "1,233" || row.cells["watchers"] != "1" {
		t.Errorf("row %+v", row)
	}
	if len(row.queries) != 1 || !strings.Contains(row.queries[0], "alert(1)") {
		t.Errorf("watchers %q", row.queries)
	}
	if idle := debugTestRow(t, page, "root", "Server.Internal.Ping"); !idle.idle || idle.cells["events"] != "0" {
		t.Errorf("idle row %+v", idle)
	}
	if !strings.Contains(page, "Logged in as <b>admin</b> (admin, every org)") || !strings.Contains(page, `<form class="logout" method="post" action="logout">`) {
		t.Errorf("no 'Logged in as' and logout button")
	}
	for _, s := range []string{`src=`, `href="http`, `url(`, `@import`} {
		if strings.Contains(page, s) {
			t.Errorf("page refers to an outside resource: %q", s)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") ||
		!strings.Contains(csp, "form-action 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// Other methods are refused; /debug/ leads to the page.
	if resp, _ := e.do("POST", "/debug/queues.json", admin); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", resp.Status)
	}
	resp, _ = e.do("GET", "/debug/", admin)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/debug/queues" {
		t.Errorf("/debug/ does not lead to the page: %s %s", resp.Status, resp.Header.Get("Location"))
	}
}

// debugTestRowData is a queue's row as the page shows it.
type debugTestRowData struct {
	idle    bool
	cells   map[string]string // by class: watchers, events, delivered, backlog, dropped, stored
	queries []string          // watcher query texts (HTML as written)
}

var (
	debugTestSectionRe = regexp.MustCompile(`(?s)<section class="org" data-org="([^"]*)">(.*?)</section>`)
	debugTestCellRe    = regexp.MustCompile(`<td class="n (\w+)[^"]*">([^<]*)</td>`)
	debugTestQueryRe   = regexp.MustCompile(`(?s)<code class="query">(.*?)</code>`)
	debugTestScriptRe  = regexp.MustCompile(`(?s)<script>.*?</script>`)
)

// debugTestRow finds a queue's row (and its watchers) in a page, served
// or as the browser left it.
func debugTestRow(t *testing.T, page, org, queue string) debugTestRowData {
	t.Helper()
	for _, sec := range debugTestSectionRe.FindAllStringSubmatch(page, -1) {
		if sec[1] != org {
			continue
		}
		start := regexp.MustCompile(`<tr class="queue( idle)?" data-queue="` + regexp.QuoteMeta(queue) + `">`).FindStringSubmatchIndex(sec[2])
		if start == nil {
			t.Fatalf("org %s: no row for %s in\n%s", org, queue, sec[2])
		}
		rest := sec[2][start[1]:]
		if end := strings.Index(rest, `<tr class="queue`); end >= 0 {
			rest = rest[:end]
		}
		row := debugTestRowData{idle: start[2] >= 0, cells: map[string]string{}}
		for _, c := range debugTestCellRe.FindAllStringSubmatch(rest, -1) {
			row.cells[c[1]] = c[2]
		}
		for _, q := range debugTestQueryRe.FindAllStringSubmatch(rest, -1) {
			row.queries = append(row.queries, q[1])
		}
		return row
	}
	t.Fatalf("no section for org %s in\n%.3000s", org, page)
	return debugTestRowData{}
}

// debugTestChromium finds the browser: Debian's chromium package, or the
// one VQLQ_CHROMIUM names. Without one the test is skipped, unless
// VQLQ_REQUIRE_BROWSER=1 (as in CI) makes it fail.
func debugTestChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VQLQ_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "the debug page's browser test needs headless Chromium and found none: install Debian's chromium package " +
		"(apt-get install -y chromium; CI does), or set VQLQ_CHROMIUM to a Chromium binary"
	if os.Getenv("VQLQ_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (VQLQ_REQUIRE_BROWSER=1)")
	}
	t.Skip(msg)
	return ""
}

// TestDebugPageInBrowser opens the page in headless Chromium as a person
// would, through the login form. Chromium's --dump-dom can neither submit
// a form nor carry a cookie, so the test drives the browser over the
// DevTools protocol on a pipe (debugTestBrowser, no websocket, no new
// dependency): it types the token into the form and clicks Log in, and the
// browser keeps the cookie the server sets, as it would for anyone.
//
// Without the cookie the page is the login form and names no queue; a
// wrong token gets the form again; with the cookie the page shows the
// queues, their counts and watchers, keeps them current without a reload,
// and without JavaScript shows the state at load time; the script cannot
// read the cookie; logging out ends the session. A reader's page hides the
// query texts and other orgs.
func TestDebugPageInBrowser(t *testing.T) {
	bin := debugTestChromium(t)
	var jsonHits atomic.Int32
	var noScript atomic.Bool
	e := newDebugTestEnv(t, debugTestEnvOptions{wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/debug/queues.json" {
				jsonHits.Add(1)
			}
			if noScript.Load() {
				w = &debugTestNoScript{ResponseWriter: w}
			}
			h.ServeHTTP(w, r)
		})
	}})
	m := e.m
	pageURL := e.http.URL + "/debug/queues"
	pull, _ := debugTestWatcher(t, m, "root", debugTestQueue, debugTestQuery)
	debugTestSend(t, m, "root", debugTestQueue, 0, 3)
	pull()
	debugTestSend(t, m, "acme", debugTestQueue, 0, 2)
	debugTestConsumer(t, m, "acme", debugTestQueue, "fwd", 1)

	b := debugTestStartBrowser(t, bin)
	// consumerLine is the text of acme's consumer, its "ago" left out (it
	// changes between a render and the next).
	consumerLine := func() string {
		var v string
		b.eval(`(function(){ var li = document.querySelector('section.org[data-org="acme"] li.consumer'); return li ? li.textContent : ''; })()`, &v)
		return regexp.MustCompile(` \([^)]*\)$`).ReplaceAllString(strings.Join(strings.Fields(v), " "), "")
	}
	cell := func(class string) string {
		var v string
		b.eval(`(function(){ var r = document.querySelector('section.org[data-org="root"] tr.queue[data-queue="`+debugTestQueue+`"] td.`+class+`'); return r ? r.textContent : ''; })()`, &v)
		return v
	}
	login := func(token string) {
		b.eval(`document.getElementById('token').value = `+jsString(token)+`; document.querySelector('#login button').click(); true`, nil)
	}

	// Without a cookie: the login form, and nothing of the queues.
	b.navigate(pageURL)
	dom := b.dom()
	if !strings.Contains(dom, `<form id="login"`) || strings.Contains(dom, debugTestQueue) || strings.Contains(dom, `class="org"`) {
		t.Fatalf("without a cookie the page is not the bare login form:\n%s", dom)
	}
	// A wrong token: the form again, saying so.
	login("vqlq_wrong")
	b.waitFor("the form to say the token is invalid", `document.querySelector('p.error')`, 30*time.Second)
	if dom := b.dom(); !strings.Contains(dom, "Invalid token.") || strings.Contains(dom, debugTestQueue) {
		t.Errorf("after a wrong token:\n%s", dom)
	}

	// The admin's token: the queues.
	login(e.tokens["admin"])
	b.waitFor("the queues after logging in", `location.pathname === '/debug/queues' && document.querySelector('section.org')`, 30*time.Second)
	var cookie string
	b.eval(`document.cookie`, &cookie)
	if cookie != "" {
		t.Errorf("the page's script can read cookies: %q", cookie)
	}
	dom = b.dom()
	row := debugTestRow(t, dom, "root", debugTestQueue)
	if row.idle || row.cells["events"] != "3" || row.cells["delivered"] != "1" || row.cells["backlog"] != "2" || row.cells["watchers"] != "1" {
		t.Errorf("first load: row %+v", row)
	}
	if len(row.queries) != 1 || row.queries[0] != debugTestQuery {
		t.Errorf("first load: watchers %q, want %q", row.queries, debugTestQuery)
	}
	if idle := debugTestRow(t, dom, "root", "Server.Internal.Ping"); !idle.idle {
		t.Errorf("Server.Internal.Ping is not shown as idle: %+v", idle)
	}
	if !strings.Contains(dom, "Logged in as <b>admin</b>") {
		t.Errorf("no 'Logged in as admin'")
	}
	served := consumerLine()
	if !regexp.MustCompile(`^consumer fwd of reader · at #1 · lag 1 · last ack \d\d:\d\d:\d\d$`).MatchString(served) {
		t.Errorf("first load: consumer line %q", served)
	}

	// Events that arrive while the page is open appear without a reload:
	// the script's refresh (every 2 s) brings them.
	b.eval(`window.vqlqMark = 1; true`, nil)
	debugTestSend(t, m, "root", debugTestQueue, 3, 4)
	b.waitFor("the refresh to show 7 events", `document.querySelector('section.org[data-org="root"] tr.queue[data-queue="`+debugTestQueue+`"] td.events').textContent === '7'`, 30*time.Second)
	var mark int
	b.eval(`window.vqlqMark || 0`, &mark)
	if mark != 1 || jsonHits.Load() == 0 {
		t.Errorf("the page was reloaded (mark %d) or never fetched queues.json (%d)", mark, jsonHits.Load())
	}
	if got := cell("backlog"); got != "6" {
		t.Errorf("after a refresh: backlog %q, want 6", got)
	}
	if got := consumerLine(); got != served {
		t.Errorf("the script renders the consumer as %q, the server as %q", got, served)
	}
	dom = b.dom()
	if !strings.Contains(dom, `<p id="status" class="ok">`) || !regexp.MustCompile(`Updated <time id="updated" datetime="[^"]+">\d\d:\d\d:\d\d</time> UTC`).MatchString(dom) {
		t.Errorf("no 'Updated' time after a refresh:\n%.1500s", dom)
	}
	if text := debugTestScriptRe.ReplaceAllString(dom, ""); strings.Contains(text, "NaN") || strings.Contains(text, "undefined") {
		t.Errorf("the script rendered NaN or undefined:\n%s", dom)
	}
	for _, org := range []string{"root", "acme"} {
		if c := strings.Count(dom, `<section class="org" data-org="`+org+`"`); c != 1 {
			t.Errorf("%d sections for org %s after refreshes, want 1", c, org)
		}
	}

	// Without its script the server's table is the page. (The page's own
	// policy forbids its script, as a browser with JavaScript off runs
	// none.)
	noScript.Store(true)
	b.navigate(pageURL)
	hits := jsonHits.Load()
	time.Sleep(2500 * time.Millisecond) // past the script's first refresh
	dom = b.dom()
	noScript.Store(false)
	if jsonHits.Load() != hits {
		t.Errorf("queues.json fetched with the script blocked")
	}
	row = debugTestRow(t, dom, "root", debugTestQueue)
	if row.cells["events"] != "7" || len(row.queries) != 1 || row.queries[0] != debugTestQuery {
		t.Errorf("without JavaScript: row %+v", row)
	}

	// A screenshot, for a person to look at: VQLQ_DEBUG_SCREENSHOT=file.png
	// keeps it.
	b.navigate(pageURL)
	shot := b.screenshot(1400, 900)
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if bounds := img.Bounds(); bounds.Dx() != 1400 || bounds.Dy() != 900 {
		t.Errorf("screenshot is %v", bounds)
	}
	if keep := os.Getenv("VQLQ_DEBUG_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, shot, 0o644); err != nil {
			t.Error(err)
		}
	}

	// Log out: the login form, and the page stays closed.
	b.eval(`document.querySelector('form.logout button').click(); true`, nil)
	b.waitFor("the login form after logging out", `document.getElementById('login')`, 30*time.Second)
	b.navigate(pageURL)
	if dom := b.dom(); !strings.Contains(dom, `<form id="login"`) || strings.Contains(dom, debugTestQueue) {
		t.Errorf("after logging out the page is not the login form:\n%s", dom)
	}

	// A reader sees its org's queues, not the query texts.
	login(e.tokens["reader"])
	b.waitFor("the reader's page", `document.querySelector('section.org')`, 30*time.Second)
	// After the script's refresh too.
	hits = jsonHits.Load()
	for deadline := time.Now().Add(30 * time.Second); jsonHits.Load() == hits && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	dom = b.dom()
	row = debugTestRow(t, dom, "root", debugTestQueue)
	if len(row.queries) != 1 || row.queries[0] != "query hidden (admin only)" || strings.Contains(dom, debugTestQuery) {
		t.Errorf("the reader sees watchers %q", row.queries)
	}
	if strings.Contains(dom, `data-org="acme"`) || !strings.Contains(dom, "Logged in as <b>reader</b> (reader, org root)") {
		t.Errorf("the reader's page:\n%.3000s", dom)
	}
}

// debugTestNoScript serves a response with a policy that forbids every
// script, as a browser with JavaScript off would run none.
type debugTestNoScript struct {
	http.ResponseWriter
	wrote bool
}

func (w *debugTestNoScript) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Set("Content-Security-Policy", "script-src 'none'")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *debugTestNoScript) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}
