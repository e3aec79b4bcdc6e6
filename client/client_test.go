package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/client"
	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/clienttable"
	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
)

// numbers is the CLIENT_EVENT artifact the tests' clients run: numbered
// rows, quickly.
const numbers = `name: Test.Client.Numbers
type: CLIENT_EVENT
parameters:
  - name: Every
    default: "0.01"
sources:
  - query: SELECT count() AS N FROM clock(period=0.02)
`

// logger logs a numbered ERROR line per tick: errors are reported at
// once, so its lines reach the server in many reports.
const logger = `name: Test.Client.Logs
type: CLIENT_EVENT
sources:
  - query: SELECT log(message='line %v', args=count(), level='ERROR') AS L FROM clock(period=0.05)
`

const other = `name: Test.Client.Other
type: CLIENT_EVENT
sources:
  - query: SELECT 1 AS X FROM scope()
`

// fixedTable serves every client the same table: the table package is
// tested on its own; here the protocol is.
type fixedTable struct {
	mu      sync.Mutex
	m       *queues.Manager
	names   []string
	params  string
	changed chan struct{}
	reports map[string][]clientapi.Status
	logs    map[string][]string // every message reported, by artifact
}

func (f *fixedTable) Table(org string, labels []string) (clientapi.Table, []string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := clientapi.Table{Version: strings.Join(f.names, ",") + f.params, Artifacts: []clientapi.Artifact{}}
	var queues []string
	for _, n := range f.names {
		a, ok := f.m.Repository().Get(org, n)
		if !ok {
			return t, nil, fmt.Errorf("no %s", n)
		}
		t.Artifacts = append(t.Artifacts, clientapi.Artifact{Name: n, Parameters: json.RawMessage(f.params), Definitions: []string{a.Text}})
		queues = append(queues, a.QueueNames()...)
	}
	return t, queues, nil
}

func (f *fixedTable) Changed(org string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fixedTable) Report(org, id string, st []clientapi.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports[id] = st
	for _, x := range st {
		f.logs[x.Artifact] = append(f.logs[x.Artifact], x.Messages...)
	}
}

func (f *fixedTable) set(params string, names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names, f.params = names, params
	close(f.changed)
	f.changed = make(chan struct{})
}

type env struct {
	t      testing.TB
	srv    *queuetest.Instance
	table  *fixedTable
	http   *httptest.Server
	enroll string
	admin  string
}

func newEnv(t testing.TB) *env {
	srv := queuetest.New(t, map[string]string{"n.yaml": numbers, "o.yaml": other, "l.yaml": logger})
	table := &fixedTable{m: srv.M, names: []string{"Test.Client.Numbers"}, params: `{"Every":"0.01"}`, changed: make(chan struct{}), reports: map[string][]clientapi.Status{}, logs: map[string][]string{}}
	s := server.New(server.Options{Manager: srv.M, KV: srv.Disk, Engine: vqlq.NewQueueEngine(srv.Provider()), Clients: table, KeepAlive: 200 * time.Millisecond})
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	e := &env{t: t, srv: srv, table: table, http: h}
	var err error
	if e.enroll, err = server.IssueToken(context.Background(), srv.M, srv.Disk, server.Token{Name: "enroller", Role: server.RoleEnroll, Org: "root"}, "test"); err != nil {
		t.Fatal(err)
	}
	if e.admin, err = server.IssueToken(context.Background(), srv.M, srv.Disk, server.Token{Name: "admin", Role: server.RoleAdmin, Org: "root"}, "test"); err != nil {
		t.Fatal(err)
	}
	return e
}

// endpoint is one client's process state: its folder and its store.
type endpoint struct {
	dir  string
	inst *queuetest.Instance
}

func (e *env) newClient(dir string, token string) (*client.Client, *queuetest.Instance) {
	e.t.Helper()
	inst := queuetest.New(e.t, nil)
	c, err := client.New(context.Background(), client.Options{Server: e.http.URL, EnrollToken: token, Dir: dir,
		Manager: inst.M, Engine: vqlq.NewQueueEngine(inst.Provider()), Buffer: inst.Disk, Log: testLog{e.t}, PingEvery: 100 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, inst
}

// start runs a client until the test ends; its Run's result comes on the
// channel.
func start(t testing.TB, c *client.Client) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	done := make(chan error, 1)
	go func() { err := c.Run(ctx); result <- err; done <- err }()
	t.Cleanup(func() { cancel(); <-result })
	return cancel, done
}

// rows reads what the server's queue holds.
func (e *env) rows(queue string) []*ordereddict.Dict {
	seq, err := e.srv.M.Source(context.Background(), "root", queue, time.Time{}, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*ordereddict.Dict
	for d := range seq {
		out = append(out, d)
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client enrolls with the enrollment token, is recorded, and its rows
// reach the server's CLIENT_EVENT queue stamped with its id, in order.
func TestClientEnrollsAndDelivers(t *testing.T) {
	e := newEnv(t)
	enrollments, err := e.srv.M.Watch(context.Background(), "root", server.EnrollmentQueue, queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = enrollments
	dir := t.TempDir()
	c, _ := e.newClient(dir, e.enroll)
	start(t, c)
	waitFor(t, "20 rows on the server", func() bool { return len(e.rows("Test.Client.Numbers")) >= 20 })
	for i, r := range e.rows("Test.Client.Numbers") {
		id, _ := r.GetString("ClientId")
		src, _ := r.GetString("_Source")
		n, _ := r.Get("N")
		if id != c.ID() || src != c.ID() || fmt.Sprint(n) != fmt.Sprint(i+1) {
			t.Fatalf("row %d: ClientId %q _Source %q N %v; want %s, %s, %d", i, id, src, n, c.ID(), c.ID(), i+1)
		}
	}
	rec, found, err := fleet.Of(e.srv.M).Get("root", c.ID())
	host, _ := os.Hostname()
	if err != nil || !found || rec.Hostname != host || rec.AgentName != client.AgentName || !rec.Connected {
		t.Fatalf("record %+v found %v err %v", rec, found, err)
	}
	// Its credential is stored as a hash, its identity in its folder.
	b, err := os.ReadFile(filepath.Join(dir, "identity.json"))
	if err != nil || !strings.Contains(string(b), c.ID()) {
		t.Fatalf("identity: %s %v", b, err)
	}
	var id client.Identity
	json.Unmarshal(b, &id)
	if rec.KeyHash != server.KeyHash(id.Secret) || strings.Contains(rec.KeyHash, id.Secret) {
		t.Errorf("stored key hash %q does not hash the client's secret", rec.KeyHash)
	}
	// It reports its artifact's state.
	waitFor(t, "a status report", func() bool {
		e.table.mu.Lock()
		defer e.table.mu.Unlock()
		st := e.table.reports[c.ID()]
		return len(st) == 1 && st[0].Artifact == "Test.Client.Numbers" && st[0].State == client.StateRunning
	})
}

// A change of the table reaches a connected client at once: it stops
// what left the table and starts what came in.
func TestTableChangesReachTheClient(t *testing.T) {
	e := newEnv(t)
	c, _ := e.newClient(t.TempDir(), e.enroll)
	start(t, c)
	waitFor(t, "numbers", func() bool { return len(e.rows("Test.Client.Numbers")) > 0 })
	e.table.set("", "Test.Client.Other")
	waitFor(t, "rows of the new artifact", func() bool { return len(e.rows("Test.Client.Other")) > 0 })
	// Numbers stopped: its count holds still.
	time.Sleep(300 * time.Millisecond)
	before := len(e.rows("Test.Client.Numbers"))
	time.Sleep(300 * time.Millisecond)
	if after := len(e.rows("Test.Client.Numbers")); after != before {
		t.Errorf("Test.Client.Numbers still runs: %d rows, then %d", before, after)
	}
}

// A query's messages reach the server once each: a report brings only
// those the server does not have yet.
func TestReportsBringEachMessageOnce(t *testing.T) {
	e := newEnv(t)
	e.table.set("", "Test.Client.Logs")
	c, _ := e.newClient(t.TempDir(), e.enroll)
	start(t, c)
	var logs []string
	waitFor(t, "30 lines in at least 3 reports", func() bool {
		e.table.mu.Lock()
		defer e.table.mu.Unlock()
		logs = append([]string(nil), e.table.logs["Test.Client.Logs"]...)
		return len(logs) >= 30
	})
	for i, m := range logs {
		want := fmt.Sprintf(" line %d", i+1)
		if !strings.HasSuffix(m, want) {
			t.Fatalf("message %d is %q; want one ending %q (each line once, in order)", i, m, want)
		}
	}
}

// lockedLog is a client's log, read by the test while the client writes.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Rows the server will never take (their artifact left the table while
// the client could not hear it, and the server's grace is over — the
// fixed table has none) do not hold up the rows behind them: the client
// drops them, says how many, and delivers the rest.
func TestRefusedRowsAreDroppedNotStuck(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	away := false
	real := e.http.Config.Handler
	e.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := away
		mu.Unlock()
		if a {
			http.Error(w, "away", http.StatusBadGateway)
			return
		}
		real.ServeHTTP(w, r)
	})
	inst := queuetest.New(t, nil)
	log := &lockedLog{}
	c, err := client.New(context.Background(), client.Options{Server: e.http.URL, EnrollToken: e.enroll, Dir: t.TempDir(),
		Manager: inst.M, Engine: vqlq.NewQueueEngine(inst.Provider()), Buffer: inst.Disk, Log: log, PingEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cancel, done := start(t, c)
	waitFor(t, "rows", func() bool { return len(e.rows("Test.Client.Numbers")) >= 5 })
	mu.Lock()
	away = true
	mu.Unlock()
	time.Sleep(500 * time.Millisecond) // rows of Numbers pile up in the buffer
	e.table.set("", "Test.Client.Other")
	held := len(e.rows("Test.Client.Numbers"))
	mu.Lock()
	away = false
	mu.Unlock()
	waitFor(t, "rows of the new artifact", func() bool { return len(e.rows("Test.Client.Other")) > 0 })
	if n := len(e.rows("Test.Client.Numbers")); n != held {
		t.Errorf("Test.Client.Numbers got %d rows after it left the table, had %d: the server took refused rows", n, held)
	}
	cancel()
	<-done
	dropped := 0
	for _, m := range regexp.MustCompile(`dropped (\d+) buffered rows of Test.Client.Numbers: the server refuses them`).FindAllStringSubmatch(log.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		dropped += n
	}
	if dropped == 0 {
		t.Fatalf("no drop logged:\n%s", log)
	}
	stopped := regexp.MustCompile(`stopped; 0 rows \(0 bytes\) wait for the server, kept in .*; (\d+) rows refused by the server and dropped`).FindStringSubmatch(log.String())
	if stopped == nil || stopped[1] != strconv.Itoa(dropped) {
		t.Errorf("the stop line does not count the %d dropped rows:\n%s", dropped, log)
	}
}

// While the server is away the client buffers; when it is back every
// row arrives once, in order; a restarted client goes on numbering.
func TestClientBuffersWhileTheServerIsAway(t *testing.T) {
	e := newEnv(t)
	var down sync.Mutex
	away := false
	real := e.http.Config.Handler
	e.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.Lock()
		a := away
		down.Unlock()
		if a {
			http.Error(w, "away", http.StatusBadGateway)
			return
		}
		real.ServeHTTP(w, r)
	})
	dir := t.TempDir()
	c, inst := e.newClient(dir, e.enroll)
	cancel, done := start(t, c)
	waitFor(t, "rows", func() bool { return len(e.rows("Test.Client.Numbers")) >= 5 })
	down.Lock()
	away = true
	down.Unlock()
	time.Sleep(time.Second)
	held := len(e.rows("Test.Client.Numbers"))
	down.Lock()
	away = false
	down.Unlock()
	waitFor(t, "the buffered rows", func() bool { return len(e.rows("Test.Client.Numbers")) >= held+50 })
	cancel()
	<-done
	// The same client, started again on its folder: it continues.
	inst.Restart()
	c2, err := client.New(context.Background(), client.Options{Dir: dir, Manager: inst.M, Engine: vqlq.NewQueueEngine(inst.Provider()), Buffer: inst.Disk, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID() != c.ID() {
		t.Fatalf("restarted as %s, was %s", c2.ID(), c.ID())
	}
	n := len(e.rows("Test.Client.Numbers"))
	start(t, c2)
	waitFor(t, "rows after the restart", func() bool { return len(e.rows("Test.Client.Numbers")) >= n+10 })
	// One run of 1..k per process, each row once.
	var runs [][]int
	for _, r := range e.rows("Test.Client.Numbers") {
		v, _ := r.Get("N")
		k := int(toInt(v))
		if k == 1 || len(runs) == 0 {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], k)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs of numbers, want 2 (one per process)", len(runs))
	}
	for i, run := range runs {
		for j, k := range run {
			if k != j+1 {
				t.Fatalf("run %d: row %d is N=%d, want %d (lost or duplicated)", i, j, k, j+1)
			}
		}
	}
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case uint64:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return -1
}

// A second process with the same identity is refused while the first is
// connected (409), and the server says so on Server.Internal.ClientConflict.
func TestSecondProcessWithTheSameIdConflicts(t *testing.T) {
	e := newEnv(t)
	conflicts, err := e.srv.M.Watch(context.Background(), "root", server.ClientConflictQueue, queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, _ := e.newClient(dir, e.enroll)
	start(t, c)
	waitFor(t, "connected", func() bool {
		rec, ok, _ := fleet.Of(e.srv.M).Get("root", c.ID())
		return ok && rec.Connected
	})
	// A copy of the folder: the same id and secret.
	b, _ := os.ReadFile(filepath.Join(dir, "identity.json"))
	req, _ := http.NewRequest("GET", e.http.URL+clientapi.Path("root", c.ID(), "stream"), nil)
	var id client.Identity
	json.Unmarshal(b, &id)
	req.Header.Set("Authorization", "Bearer "+id.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "connected already") {
		t.Fatalf("second stream: %d %s", resp.StatusCode, body)
	}
	for row := range conflicts {
		if got, _ := row.GetString("ClientId"); got == c.ID() {
			break
		}
	}
}

// The client's credential opens its own endpoints only: not the API, not
// another client's endpoints, not a queue outside its table. Each
// refusal is audited.
func TestClientIsConfined(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	c, _ := e.newClient(dir, e.enroll)
	start(t, c)
	waitFor(t, "rows", func() bool { return len(e.rows("Test.Client.Numbers")) > 0 })
	b, _ := os.ReadFile(filepath.Join(dir, "identity.json"))
	var id client.Identity
	json.Unmarshal(b, &id)
	other := fleet.NewClientID()
	batch := func(queue string) string {
		return fmt.Sprintf(`{"rows":[{"seq":999999,"queue":%q,"row":{"x":1}}]}`, queue)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		says                     string
	}{
		{"send to a server queue through the API", "POST", "/api/v1/orgs/root/events/Test.Client.Numbers", `{"x":1}`, 401, "invalid token"},
		{"watch through the API", "GET", "/api/v1/orgs/root/events/Test.Client.Numbers", "", 401, "invalid token"},
		{"query", "POST", "/api/v1/orgs/root/query", `{"query":"SELECT * FROM info()"}`, 401, "invalid token"},
		{"send as another client", "POST", clientapi.Path("root", other, "events"), batch("Test.Client.Numbers"), 401, "not enrolled"},
		{"send to a queue outside its table", "POST", clientapi.Path("root", c.ID(), "events"), batch("Test.Client.Other"), 403, "not an artifact of its event table"},
		{"send to a server queue as a client", "POST", clientapi.Path("root", c.ID(), "events"), batch("Server.Audit.Logs"), 403, "not an artifact of its event table"},
		{"enroll with its own secret", "POST", clientapi.EnrollPath("root"), `{}`, 401, "invalid token"},
		{"another org", "POST", clientapi.Path("acme", c.ID(), "events"), batch("Test.Client.Numbers"), 401, "not enrolled"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, e.http.URL+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+id.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.says) {
			t.Errorf("%s: %d %s; want %d saying %q", tt.name, resp.StatusCode, body, tt.status, tt.says)
		}
	}
	if n := len(e.rows("Test.Client.Other")); n != 0 {
		t.Errorf("a refused batch stored %d rows", n)
	}
	// The refusal of the out-of-table send is in the audit log, by client.
	waitFor(t, "the audit row", func() bool {
		for _, r := range e.rows("Server.Audit.Logs") {
			s := fmt.Sprint(r)
			if strings.Contains(s, "not an artifact of its event table") && strings.Contains(s, c.ID()) {
				return true
			}
		}
		return false
	})
}

// client_delete() revokes a client: its connection ends and Run returns
// ErrRevoked.
func TestDeletedClientIsCutOff(t *testing.T) {
	e := newEnv(t)
	c, _ := e.newClient(t.TempDir(), e.enroll)
	_, done := start(t, c)
	waitFor(t, "rows", func() bool { return len(e.rows("Test.Client.Numbers")) > 0 })
	if _, err := fleet.Of(e.srv.M).Delete("root", c.ID()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, client.ErrRevoked) {
			t.Fatalf("Run: %v, want ErrRevoked", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the deleted client kept running")
	}
}

// Enrollment needs an enroll (or admin) token; an id enrolled with one
// credential cannot be taken with another.
func TestEnrollment(t *testing.T) {
	e := newEnv(t)
	reader, _ := server.IssueToken(context.Background(), e.srv.M, e.srv.Disk, server.Token{Name: "reader", Role: server.RoleReader, Org: "root"}, "test")
	enroll := func(token, id, hash string) (int, string) {
		body := fmt.Sprintf(`{"client_id":%q,"key_hash":%q,"hostname":"h"}`, id, hash)
		req, _ := http.NewRequest("POST", e.http.URL+clientapi.EnrollPath("root"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	id := fleet.NewClientID()
	h1, h2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	tests := []struct {
		name, token, id, hash string
		status                int
		says                  string
	}{
		{"reader token", reader, id, h1, 403, "may not enroll"},
		{"bad id", e.enroll, "C.nothex", h1, 400, "client id"},
		{"bad hash", e.enroll, id, "abc", 400, "key_hash"},
		{"enroll", e.enroll, id, h1, 200, `"new":true`},
		{"again, same credential", e.enroll, id, h1, 200, `"new":false`},
		{"same id, other credential", e.enroll, id, h2, 409, "another credential"},
		{"admin token", e.admin, fleet.NewClientID(), h1, 200, `"new":true`},
	}
	for _, tt := range tests {
		if status, body := enroll(tt.token, tt.id, tt.hash); status != tt.status || !strings.Contains(body, tt.says) {
			t.Errorf("%s: %d %s; want %d saying %q", tt.name, status, body, tt.status, tt.says)
		}
	}
	// The enroll token opens nothing else.
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/orgs/root/queues", nil)
	req.Header.Set("Authorization", "Bearer "+e.enroll)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("enroll token on /queues: %d", resp.StatusCode)
	}
	_ = artifacts.TypeClientEvent
}

// testLog shows a client's messages in the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// killkillkill() reaches a connected client at once: its Run ends with
// ErrKilled (the command exits, for its service manager to restart it).
func TestKillReachesAConnectedClient(t *testing.T) {
	e := newEnv(t)
	c, _ := e.newClient(t.TempDir(), e.enroll)
	_, done := start(t, c)
	waitFor(t, "rows", func() bool { return len(e.rows("Test.Client.Numbers")) > 0 })
	if _, err := fleet.Of(e.srv.M).RequestKill("root", c.ID(), "admin"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, client.ErrKilled) {
			t.Fatalf("Run ended with %v, want ErrKilled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the client still runs after killkillkill")
	}
}

// With the server's own client event table, a label given to a client
// changes what it runs within seconds: an artifact for that label starts,
// and stops when the label is taken away.
func TestLabelChangesWhatAClientRuns(t *testing.T) {
	srv := queuetest.New(t, map[string]string{"n.yaml": numbers, "o.yaml": other})
	tables := clienttable.Of(srv.M)
	if err := tables.Add("root", clienttable.Entry{Artifact: "Test.Client.Numbers"}); err != nil {
		t.Fatal(err)
	}
	if err := tables.Add("root", clienttable.Entry{Artifact: "Test.Client.Other", Label: "web"}); err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Options{Manager: srv.M, KV: srv.Disk, Engine: vqlq.NewQueueEngine(srv.Provider()),
		Clients: clienttable.Served{S: tables, M: srv.M}, KeepAlive: time.Hour})
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	e := &env{t: t, srv: srv, http: h}
	var err error
	if e.enroll, err = server.IssueToken(context.Background(), srv.M, srv.Disk, server.Token{Name: "enroller", Role: server.RoleEnroll, Org: "root"}, "test"); err != nil {
		t.Fatal(err)
	}
	c, _ := e.newClient(t.TempDir(), e.enroll)
	start(t, c)
	waitFor(t, "rows of the artifact for every client", func() bool { return len(e.rows("Test.Client.Numbers")) > 0 })
	if n := len(e.rows("Test.Client.Other")); n != 0 {
		t.Fatalf("%d rows of the web artifact before the label", n)
	}
	reg := fleet.Of(srv.M)
	if _, err := reg.AddLabels("root", c.ID(), []string{"Web"}); err != nil {
		t.Fatal(err)
	}
	// Other ends after one row and is restarted by the client: its rows
	// grow while the label holds.
	waitFor(t, "rows of the web artifact", func() bool { return len(e.rows("Test.Client.Other")) > 0 })
	state := func(name string) string {
		for _, r := range tables.Logs("root", c.ID()) {
			if r.Artifact == name {
				return r.State
			}
		}
		return ""
	}
	waitFor(t, "a report of the web artifact", func() bool { return state("Test.Client.Other") != "" })
	if _, err := reg.RemoveLabels("root", c.ID(), []string{"web"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the web artifact reported stopped", func() bool {
		return state("Test.Client.Other") == client.StateStopped && state("Test.Client.Numbers") == client.StateRunning
	})
}
