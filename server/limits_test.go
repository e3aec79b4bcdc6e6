package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/flood"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
)

// newLimitsEnv is a server as `vqlq serve` runs it on the network: its
// HTTPServer (MaxHeaderBytes, timeouts) on a CountRefusals listener on
// loopback. local serves the folder owner's handler, for /metrics.
func newLimitsEnv(t *testing.T, opts server.Options) (e *apiEnv, local *httptest.Server) {
	t.Helper()
	m, disk := newTestManager(t, queues.Options{}, "Server.Events.Receive")
	e = &apiEnv{t: t, m: m, disk: disk, tokens: map[string]string{}}
	provider := func() (*queues.Manager, error) { return m, nil }
	opts.Manager, opts.KV, opts.Engine = m, disk, vqlq.NewQueueEngine(provider)
	e.srv = server.New(opts)
	e.http = httptest.NewUnstartedServer(nil)
	e.http.Config = e.srv.HTTPServer()
	e.http.Listener = e.srv.CountRefusals(e.http.Listener)
	e.http.Start()
	local = httptest.NewServer(e.srv.LocalHandler())
	t.Cleanup(func() {
		e.http.Close()
		local.Close()
		e.srv.Shutdown(context.Background())
	})
	for _, tk := range []server.Token{
		{Name: "admin", Role: server.RoleAdmin, Org: "root"},
		{Name: "acme-admin", Role: server.RoleAdmin, Org: "acme"},
	} {
		secret, err := server.IssueToken(context.Background(), m, disk, tk, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[tk.Name] = secret
	}
	return e, local
}

// limitsTestMetric reads one sample of /metrics (0 when absent).
func limitsTestMetric(t *testing.T, local *httptest.Server, sample string) float64 {
	t.Helper()
	resp, err := http.Get(local.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// heapWatch samples the Go heap in use while a flood runs: the peak above
// the heap at the start (after a collection), and what is left after.
type heapWatch struct {
	base  uint64
	alloc uint64 // TotalAlloc at the start
	peak  atomic.Uint64
	stop  chan struct{}
	done  chan struct{}
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapWatch{base: ms.HeapInuse, alloc: ms.TotalAlloc, stop: make(chan struct{}), done: make(chan struct{})}
	h.peak.Store(ms.HeapInuse)
	go func() {
		defer close(h.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.peak.Load() {
				h.peak.Store(ms.HeapInuse)
			}
		}
	}()
	return h
}

// end returns the peak growth and the growth left after a collection, in
// MiB. The peak is sampled every 5 ms; allocated (all the memory allocated
// meanwhile, live or not) is exact, and bounds the peak of one request.
func (h *heapWatch) end() (peak, left, allocated float64) {
	close(h.stop)
	<-h.done
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mib := func(v uint64) float64 { return (float64(v) - float64(h.base)) / (1 << 20) }
	return mib(h.peak.Load()), mib(ms.HeapInuse), float64(ms.TotalAlloc-h.alloc) / (1 << 20)
}

// auditRows reads an org's Server.Audit.Logs.
func auditRows(e *apiEnv, org string) []map[string]any {
	var out []map[string]any
	for _, line := range e.stored(org, queues.AuditQueue) {
		var row map[string]any
		json.Unmarshal([]byte(line), &row)
		out = append(out, row)
	}
	return out
}

// TestFloodOfLongPathsWithoutToken: 600 requests without a token, each
// with an 800 KB path, 100 at a time. Before: each reached the handler and
// its whole path was written to Server.Audit.Logs (the issue measured the
// server at 2.6 GB and the data folder +459 MB). Now net/http refuses each
// with 431 once 64 KB (+4 KB) of it is read, the refusals are counted in
// vqlq_http_refused_total{status="431",reason="header_too_large"}, and the
// audit log gets at most the burst of one address plus a summary.
//
//	go test -run TestFloodOfLongPathsWithoutToken -v ./server/
//
// measured: peak Go heap about +28 MiB during the flood (100 connections
// each reading up to 68 KB at once), +0.2 MiB after it.
func TestFloodOfLongPathsWithoutToken(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // the audit limits are exact
	e, local := newLimitsEnv(t, server.Options{Now: func() time.Time { return now }})
	addr := strings.TrimPrefix(e.http.URL, "http://")
	path := []byte(strings.Repeat("A", 800<<10))
	head := []byte("GET /api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive/")
	tail := []byte(" HTTP/1.1\r\nHost: vqlq\r\n\r\n")
	const n, parallel = 600, 100
	h := watchHeap()
	var wg sync.WaitGroup
	var wrong atomic.Int64
	var firstErr atomic.Value
	for w := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / parallel {
				status, err := flood.RawStatus(addr, 30*time.Second, head, path, tail)
				if err != nil || status != http.StatusRequestHeaderFieldsTooLarge {
					wrong.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("worker %d: status %d, %v", w, status, err))
				}
			}
		}()
	}
	wg.Wait()
	peak, left, _ := h.end()
	t.Logf("%d requests with %d KB paths: peak Go heap %+.1f MiB, %+.1f MiB after", n, len(path)>>10, peak, left)
	if wrong.Load() > 0 {
		t.Fatalf("%d requests not refused with 431: %v", wrong.Load(), firstErr.Load())
	}
	if peak > 100 {
		t.Errorf("the heap grew by %.1f MiB during the flood (limit 100)", peak)
	}
	if got := limitsTestMetric(t, local, `vqlq_http_refused_total{reason="header_too_large",status="431"}`); got != n {
		t.Errorf("vqlq_http_refused_total counts %v refusals with 431, want %d", got, n)
	}
	e.srv.Shutdown(context.Background()) // writes the summary of what was suppressed
	refused, suppressed := 0, 0.0
	for _, row := range auditRows(e, "root") {
		details, _ := row["details"].(map[string]any)
		switch row["operation"] {
		case "refused":
			refused++
			if b, _ := json.Marshal(row); len(b) > 1024 {
				t.Errorf("an audit row of %d bytes: %.300s…", len(b), b)
			}
		case "refused_suppressed":
			suppressed += details["suppressed"].(float64)
		}
	}
	if refused != 20 || float64(refused)+suppressed != n {
		t.Errorf("audit: %d refusals recorded and %v suppressed, want 20 and %d in all", refused, suppressed, n)
	}
}

// TestFloodOfTinyRequestsWithoutToken: 20,000 requests without a token
// from one address (2,000 with -short), on a clock that stands still so
// the limits are exact. Before: 20,002 audit events. Now: the first 20
// (the burst) are recorded, the rest counted in vqlq_audit_suppressed_total
// and summarised in one row per interval, by status; they are all in
// vqlq_http_refused_total. Requests naming another org, or a token that
// does not exist, are recorded in the default org: an unauthenticated
// caller never writes to an org named in the URL.
//
// measured (20,000): 20 refusals and 1 summary recorded.
func TestFloodOfTinyRequestsWithoutToken(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	e, local := newLimitsEnv(t, server.Options{Now: func() time.Time { return now }})
	n := 20000
	if testing.Short() {
		n = 2000
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	paths := []string{send, "/api/v1/orgs/acme/events/Server.Events.Receive", "/api/v1/orgs/nowhere/queues"}
	var wg sync.WaitGroup
	var wrong atomic.Int64
	const parallel = 4
	for w := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += parallel {
				req, _ := http.NewRequest("GET", e.http.URL+paths[i%len(paths)], nil)
				if i%2 == 1 {
					req.Header.Set("Authorization", "Bearer vqlq_nope")
				}
				resp, err := client.Do(req)
				if err != nil {
					wrong.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if wrong.Load() > 0 {
		t.Fatalf("%d requests not refused with 401", wrong.Load())
	}
	missing := limitsTestMetric(t, local, `vqlq_http_refused_total{reason="missing_token",status="401"}`)
	invalid := limitsTestMetric(t, local, `vqlq_http_refused_total{reason="invalid_token",status="401"}`)
	if missing+invalid != float64(n) || missing != float64(n/2) {
		t.Errorf("vqlq_http_refused_total: %v missing_token + %v invalid_token, want %d + %d", missing, invalid, n/2, n/2)
	}
	if got := limitsTestMetric(t, local, "vqlq_audit_suppressed_total"); got != float64(n-20) {
		t.Errorf("vqlq_audit_suppressed_total = %v, want %d", got, n-20)
	}
	e.srv.Shutdown(context.Background())
	refused, summaries := 0, 0
	var suppressed float64
	for _, row := range auditRows(e, "root") {
		details, _ := row["details"].(map[string]any)
		switch row["operation"] {
		case "refused":
			refused++
			if details["remote"] != "127.0.0.1" {
				t.Errorf("refusal recorded without its address: %v", row)
			}
		case "refused_suppressed":
			summaries++
			suppressed += details["suppressed"].(float64)
			statuses, _ := details["statuses"].(map[string]any)
			if details["remote"] != "127.0.0.1" || statuses["401"] != details["suppressed"] ||
				!strings.Contains(details["message"].(string), "refusals from 127.0.0.1 suppressed in the last") {
				t.Errorf("summary row: %v", row)
			}
		}
	}
	t.Logf("%d requests: %d refusals and %d summaries recorded", n, refused, summaries)
	if refused != 20 || summaries < 1 || summaries > 10 || suppressed != float64(n-20) {
		t.Errorf("audit: %d refusals, %d summaries of %v suppressed; want 20, 1 to 10, %d", refused, summaries, suppressed, n-20)
	}
	if rows := auditRows(e, "acme"); len(rows) != 1 || rows[0]["operation"] != "token_create" {
		t.Errorf("unauthenticated requests wrote to org acme's audit log: %v", rows)
	}
	for _, org := range e.m.Orgs() {
		if org == "nowhere" {
			t.Error("an unauthenticated request created org nowhere")
		}
	}
}

// TestRefusalAuditRowsAreCut: what the client sends is cut to a few
// hundred bytes in the audit row, on a handler without the HTTPServer's
// header limit too; a token's caller is recorded in the token's org, not
// in the org of the URL.
func TestRefusalAuditRowsAreCut(t *testing.T) {
	e := newAPIEnv(t, 0)
	long := strings.Repeat("é", 50<<10) // 100 KB, two bytes a character
	if status, _ := e.do("POST", send+"/"+long, "", `{"a":"`+long+`"}`); status != http.StatusUnauthorized {
		t.Fatalf("status %d", status)
	}
	if status, _ := e.do("POST", "/api/v1/orgs/"+rootOrg+"/events/"+long, "admin", `{"a":1}`); status != http.StatusNotFound {
		t.Fatalf("status %d", status)
	}
	if status, _ := e.do("GET", "/api/v1/orgs/acme/queues", "admin", ""); status != http.StatusForbidden {
		t.Fatalf("status %d", status)
	}
	var rows []string
	for _, r := range e.stored("root", queues.AuditQueue) {
		if strings.Contains(r, `"operation":"refused"`) {
			rows = append(rows, r)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d refusals recorded in root: %v", len(rows), rows)
	}
	for _, r := range rows {
		if len(r) > 1200 || strings.Contains(r, strings.Repeat("é", 200)) || strings.Contains(r, `"a":`) {
			t.Errorf("audit row of %d bytes: %.400s", len(r), r)
		}
	}
	if !strings.Contains(rows[0], "…[cut: ") || !strings.Contains(rows[1], `"principal":"admin"`) || !strings.Contains(rows[2], `"reason":"token admin is not valid in org acme"`) {
		t.Errorf("rows:\n%s", strings.Join(rows, "\n"))
	}
	for _, r := range e.stored("acme", queues.AuditQueue) {
		if strings.Contains(r, `"refused"`) {
			t.Errorf("root's token recorded in acme: %s", r)
		}
	}
}

// TestLargeBodiesAreRefusedAsTheyArrive: bodies are read against their
// limit as they arrive. Before: a 1 GB POST was buffered whole (RSS +2 GB)
// before its 413. Now reading stops at --max-body (16 MB) or at the first
// row over --max-row-bytes (1 MB), and the 413 names the limit and its
// flag; a Content-Length over --max-body is refused before reading.
//
//	go test -run TestLargeBodiesAreRefusedAsTheyArrive -v ./server/
//
// measured (allocated while the request ran, which bounds its peak): 18 MiB
// for the 1 GB of 1 KB rows (16 MB of rows held), 0 for the announced
// 1 GB, 14 to 16 MiB for the tiny rows (100,000 row headers), 6 MiB for
// the 10 MB line, 16 MiB for the 1 GB query.
func TestLargeBodiesAreRefusedAsTheyArrive(t *testing.T) {
	e, local := newLimitsEnv(t, server.Options{})
	row := []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}` + "\n")
	const gb = 1 << 30
	tests := []struct {
		name, path string
		body       func() io.Reader
		length     int64 // Content-Length; 0: chunked
		msg        string
	}{
		{"1 GB of 1 KB rows, chunked", send, func() io.Reader { return flood.Repeat(row, gb) }, 0,
			"body over the limit of 16777216 bytes (vqlq serve --max-body)"},
		{"1 GB announced", send, func() io.Reader { return flood.Repeat(row, gb) }, gb,
			"body over the limit of 16777216 bytes (vqlq serve --max-body)"},
		{"1 GB of tiny rows", send, func() io.Reader { return flood.Repeat([]byte("{}\n"), gb) }, 0,
			"more than 100000 rows in one request"},
		{"one line of 10 MB", send, func() io.Reader { return flood.Repeat([]byte(`{"a":"xxxxxxxx`), 10<<20) }, 0,
			"row 1 is more than 1048576 bytes, over the limit of 1048576 (vqlq serve --max-row-bytes)"},
		{"a query of 1 GB", "/api/v1/orgs/" + rootOrg + "/query", func() io.Reader { return flood.Repeat([]byte("SELECT * FROM scope() "), gb) }, 0,
			"body over the limit of 16777216 bytes (vqlq serve --max-body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := watchHeap()
			req, _ := http.NewRequest("POST", e.http.URL+tt.path, tt.body())
			req.ContentLength = tt.length
			if tt.length == 0 {
				req.ContentLength = -1
			}
			req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Error  string
				Status int
			}
			json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			peak, left, allocated := h.end()
			t.Logf("peak Go heap %+.1f MiB, %+.1f MiB after; %.1f MiB allocated", peak, left, allocated)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || got.Status != 413 || got.Error != tt.msg {
				t.Errorf("%d %+v; want 413 %q", resp.StatusCode, got, tt.msg)
			}
			if peak > 64 || allocated > 64 {
				t.Errorf("the heap grew by %.1f MiB, %.1f MiB were allocated (limit 64)", peak, allocated)
			}
		})
	}
	if rows := e.stored("root", "Server.Events.Receive"); len(rows) != 0 {
		t.Errorf("%d rows stored", len(rows))
	}
	if got := limitsTestMetric(t, local, `vqlq_http_refused_total{reason="body_too_large",status="413"}`); got != 3 {
		t.Errorf("body_too_large refusals: %v", got)
	}
}

// A body within the limits goes in whole, the rows of NDJSON as they were
// sent; --max-body applies to the whole body, --max-row-bytes to each row.
func TestBodiesWithinTheLimits(t *testing.T) {
	e, _ := newLimitsEnv(t, server.Options{MaxBody: 64 << 10, MaxRowBytes: 1 << 10})
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "  {\"i\":%d,\"pad\":%q}  \r\n\n", i, strings.Repeat("y", 100))
	}
	req, _ := http.NewRequest("POST", e.http.URL+send, io.MultiReader(strings.NewReader(b.String())))
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(out), "\n") != 500 {
		t.Fatalf("%d %.200s", resp.StatusCode, out)
	}
	rows := e.stored("root", "Server.Events.Receive")
	if len(rows) != 500 || !strings.HasPrefix(rows[499], `{"i":499,"pad":"yyy`) {
		t.Fatalf("%d rows stored", len(rows))
	}
	for _, tt := range []struct {
		body   string
		status int
		msg    string
	}{
		{strings.Repeat(`{"a":1}`+"\n", 10000), 413, "body over the limit of 65536 bytes (vqlq serve --max-body)"},
		{`{"a":1}` + "\n" + `{"a":"` + strings.Repeat("z", 1100) + `"}` + "\n" + `{"a":2}`, 413, "row 2 is 1108 bytes, over the limit of 1024 (vqlq serve --max-row-bytes)"},
		{"{\n  \"a\": \"" + strings.Repeat("z", 1100) + "\"\n}", 413, "row 1 (a JSON object over several lines) is more than 1024 bytes, over the limit of 1024 (vqlq serve --max-row-bytes)"},
		{"{\n  \"a\": 1,\n  \"b\": [1,\n 2]\n}\n", 200, ""},
		{"{\"a\":1}}\n{\"a\":2}", 400, "row 1: malformed JSON at line 1, column 8: invalid character '}' after top-level value"},
		{"{\n\"a\":1\n}\n{\"b\":2}", 400, "row 1: a second JSON value begins at line 4, column 1; send NDJSON (one object a line), one object, or a JSON array"},
		{"{\"a\":1}\n[1]", 400, "send_event: row 2 (line 2) must be a dict, not list"},
		{"{\"a\":1e999}", 400, "row 1: malformed JSON"},
		{"   \n\n  ", 400, "empty body"},
	} {
		status, body := e.do("POST", send, "admin", tt.body)
		if status != tt.status || !strings.Contains(body, tt.msg) {
			t.Errorf("%.60q: %d %.300s; want %d %q", tt.body, status, body, tt.status, tt.msg)
		}
	}
	if rows := e.stored("root", "Server.Events.Receive"); len(rows) != 501 {
		t.Errorf("%d rows stored, want 501", len(rows))
	}
}
