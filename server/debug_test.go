package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

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
// queues (0: the default).
func debugTestManager(t *testing.T, memory int) *queues.Manager {
	t.Helper()
	defs := t.TempDir()
	if err := os.WriteFile(filepath.Join(defs, "receive.yaml"), []byte("name: "+debugTestQueue+"\ntype: SERVER_EVENT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk, err := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	opts := queues.Options{Disk: disk, Definitions: defs}
	if memory > 0 {
		opts.Memory = queues.NewMemoryStore(memory)
	}
	m, err := queues.New(opts)
	if err != nil {
		disk.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
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
	Orgs    []struct {
		Org      string               `json:"org"`
		Active   int                  `json:"active"`
		Watchers int                  `json:"watchers"`
		Events   int64                `json:"events"`
		Queues   []debugTestQueueJSON `json:"queues"`
	} `json:"orgs"`
}

// debugTestGet fetches a URL and checks its status and content type.
func debugTestGet(t *testing.T, url string, wantType string) ([]byte, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
		t.Fatalf("GET %s: Content-Type %q, want %s", url, ct, wantType)
	}
	return body, resp.Header
}

func debugTestFetchJSON(t *testing.T, base string) (debugTestJSON, string) {
	t.Helper()
	body, _ := debugTestGet(t, base+"/debug/queues.json", "application/json")
	var page debugTestJSON
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("queues.json: %v\n%s", err, body)
	}
	return page, string(body)
}

// TestDebugQueuesJSON checks the JSON against what was sent and watched,
// in two orgs.
func TestDebugQueuesJSON(t *testing.T) {
	m := debugTestManager(t, 0)
	srv := httptest.NewServer(server.DebugHandler(m))
	defer srv.Close()

	pull, stop := debugTestWatcher(t, m, "root", debugTestQueue, debugTestQuery)
	before := time.Now()
	debugTestSend(t, m, "root", debugTestQueue, 0, 3)
	pull()
	debugTestSend(t, m, "acme", debugTestQueue, 0, 2)

	page, raw := debugTestFetchJSON(t, srv.URL)
	if d := time.Since(page.Updated); d < 0 || d > time.Minute {
		t.Errorf("updated %v", page.Updated)
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
	page, _ = debugTestFetchJSON(t, srv.URL)
	if q := debugTestFind(t, page, "root", debugTestQueue); q.Delivered != 3 || q.Backlog != 0 || q.WatcherList[0].Backlog != 0 {
		t.Errorf("after reading all: %+v", q)
	}
	stop()
	page, _ = debugTestFetchJSON(t, srv.URL)
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
// does: the table is there, text is escaped, nothing is loaded from
// elsewhere.
func TestDebugPageServerSide(t *testing.T) {
	m := debugTestManager(t, 0)
	srv := httptest.NewServer(server.DebugHandler(m))
	defer srv.Close()
	const nasty = `SELECT * FROM x WHERE a = "</code><script>alert(1)</script>" & 'b'`
	pull, _ := debugTestWatcher(t, m, "root", debugTestQueue, nasty)
	debugTestSend(t, m, "root", debugTestQueue, 0, 1234)
	pull()

	body, h := debugTestGet(t, srv.URL+"/debug/queues", "text/html")
	page := string(body)
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
	for _, s := range []string{`src=`, `href="http`, `url(`, `@import`} {
		if strings.Contains(page, s) {
			t.Errorf("page refers to an outside resource: %q", s)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// Other methods are refused; /debug/ leads to the page.
	resp, err := http.Post(srv.URL+"/debug/queues.json", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", resp.Status)
	}
	body, _ = debugTestGet(t, srv.URL+"/debug/", "text/html")
	if !bytes.Contains(body, []byte("<title>vqlq · event queues</title>")) {
		t.Errorf("/debug/ does not lead to the page")
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
// one VQLQ_CHROMIUM names.
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
	t.Fatal("the debug page test needs a headless browser and found none: install Debian's chromium package " +
		"(apt-get install -y chromium; CI installs it), or set VQLQ_CHROMIUM to a Chromium binary")
	return ""
}

// debugTestBrowse runs headless Chromium on a URL with extra flags and
// returns what it prints (the DOM, with --dump-dom).
func debugTestBrowse(t *testing.T, url string, extra ...string) string {
	t.Helper()
	bin := debugTestChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
	}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestDebugPageInBrowser opens the page in headless Chromium: it shows the
// queues, their counts and watchers, and keeps them current without a
// reload; without JavaScript it shows the state at load time.
func TestDebugPageInBrowser(t *testing.T) {
	debugTestChromium(t) // fail first, and clearly, when there is no browser
	m := debugTestManager(t, 0)
	var jsonHits atomic.Int32
	var onJSON atomic.Pointer[func()]
	var noScript atomic.Bool
	h := server.DebugHandler(m)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/queues.json" {
			jsonHits.Add(1)
			if f := onJSON.Swap(nil); f != nil {
				(*f)()
			}
		}
		if noScript.Load() {
			w = &debugTestNoScript{ResponseWriter: w}
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	url := srv.URL + "/debug/queues"
	// Virtual time runs the page's timers (a refresh every 2 s) at once.
	dump := func(extra ...string) string {
		return debugTestBrowse(t, url, append([]string{"--virtual-time-budget=5000", "--dump-dom"}, extra...)...)
	}

	pull, _ := debugTestWatcher(t, m, "root", debugTestQueue, debugTestQuery)
	debugTestSend(t, m, "root", debugTestQueue, 0, 3)
	pull()

	dom := dump()
	if jsonHits.Load() == 0 {
		t.Fatalf("the page never fetched queues.json")
	}
	row := debugTestRow(t, dom, "root", debugTestQueue)
	if row.idle || row.cells["events"] != "3" || row.cells["delivered"] != "1" || row.cells["backlog"] != "2" || row.cells["watchers"] != "1" {
		t.Errorf("first load: row %+v", row)
	}
	if len(row.queries) != 1 || row.queries[0] != debugTestQuery {
		t.Errorf("first load: watchers %q, want %q", row.queries, debugTestQuery)
	}
	if !strings.Contains(dom, `<p id="status" class="ok">`) || !regexp.MustCompile(`Updated <time id="updated" datetime="[^"]+">\d\d:\d\d:\d\d</time> UTC`).MatchString(dom) {
		t.Errorf("no 'Updated' time after a refresh:\n%.1500s", dom)
	}
	if text := debugTestScriptRe.ReplaceAllString(dom, ""); strings.Contains(text, "NaN") || strings.Contains(text, "undefined") {
		t.Errorf("the script rendered NaN or undefined:\n%s", dom)
	}
	if idle := debugTestRow(t, dom, "root", "Server.Internal.Ping"); !idle.idle {
		t.Errorf("Server.Internal.Ping is not shown as idle: %+v", idle)
	}

	// More events: the next load shows them.
	debugTestSend(t, m, "root", debugTestQueue, 3, 2)
	dom = dump()
	if row := debugTestRow(t, dom, "root", debugTestQueue); row.cells["events"] != "5" || row.cells["backlog"] != "4" {
		t.Errorf("second load: row %+v", row)
	}

	// Events that arrive while the page is open appear without a reload:
	// the server renders 5, the script's refresh brings 9.
	sendMore := func() { debugTestSend(t, m, "root", debugTestQueue, 5, 4) }
	onJSON.Store(&sendMore)
	dom = dump()
	if onJSON.Load() != nil {
		t.Fatalf("the page did not refresh")
	}
	if row := debugTestRow(t, dom, "root", debugTestQueue); row.cells["events"] != "9" || row.cells["backlog"] != "8" {
		t.Errorf("after a refresh: row %+v, want 9 events in", row)
	}
	if c := strings.Count(dom, `<section class="org"`); c != 1 {
		t.Errorf("%d org sections after refreshes, want 1", c)
	}

	// Without its script the server's table is the page. (Chromium's
	// --dump-dom needs JavaScript on, so the page's own policy forbids
	// its script instead.)
	hits := jsonHits.Load()
	noScript.Store(true)
	dom = dump()
	noScript.Store(false)
	if jsonHits.Load() != hits {
		t.Errorf("queues.json fetched with the script blocked")
	}
	row = debugTestRow(t, dom, "root", debugTestQueue)
	if row.cells["events"] != "9" || len(row.queries) != 1 || row.queries[0] != debugTestQuery {
		t.Errorf("without JavaScript: row %+v", row)
	}

	// A screenshot, for a person to look at: VQLQ_DEBUG_SCREENSHOT=file.png
	// keeps it.
	shot := filepath.Join(t.TempDir(), "queues.png")
	debugTestBrowse(t, url, "--virtual-time-budget=3000", "--hide-scrollbars", "--window-size=1400,900", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 900 {
		t.Errorf("screenshot is %v", b)
	}
	if keep := os.Getenv("VQLQ_DEBUG_SCREENSHOT"); keep != "" {
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(keep, data, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
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
