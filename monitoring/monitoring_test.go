package monitoring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/monitoring"
	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// hang is how long a test waits for something that should happen soon; it
// only guards against hanging, it is not a measure of speed.
const hang = 30 * time.Second

// testOptions make restarts quick. The debounce is long enough that a
// test's quick changes always fall inside it.
var testOptions = monitoring.Options{BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Debounce: time.Second}

// env is a queue manager on a real badger store in a temporary folder and
// a monitoring service over it.
type env struct {
	t    *testing.T
	dir  string
	disk *queues.BadgerStore
	m    *queues.Manager
	svc  *monitoring.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	disk, err := queues.OpenBadger(e.dir, queues.SyncFlush)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := queues.New(queues.Options{Disk: disk})
	if err != nil {
		e.t.Fatal(err)
	}
	e.disk, e.m = disk, m
	e.svc = monitoring.NewWithOptions(m, disk, e.engine, testOptions)
}

func (e *env) close() {
	if e.svc != nil {
		e.svc.Stop()
		e.svc = nil
	}
	if e.m != nil {
		e.m.Close()
		e.m = nil
	}
}

// restart stops everything and opens the store again, as a new process
// would; the new service is not started.
func (e *env) restart() {
	e.close()
	e.open()
}

// engine is the factory the service runs its queries with, built like
// runner.Backend.Engine over this env's manager, plus the monitoring VQL.
func (e *env) engine() *vql.Engine {
	provider := func() (*queues.Manager, error) { return e.m, nil }
	svc := func() (*monitoring.Service, error) { return e.svc, nil }
	eng := vqlq.NewQueueEngine(provider)
	for _, p := range monitoring.Plugins(svc) {
		eng.AddPlugin(p)
	}
	for _, f := range monitoring.Functions(svc) {
		eng.AddFunction(f)
	}
	return eng
}

func (e *env) start() {
	e.t.Helper()
	if err := e.svc.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) set(org, text string) {
	e.t.Helper()
	if _, err := e.m.SetArtifact(context.Background(), org, text, "test"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) add(org, artifact string, params *ordereddict.Dict) {
	e.t.Helper()
	if err := e.svc.Add(context.Background(), org, artifact, params); err != nil {
		e.t.Fatal(err)
	}
}

// watch streams a queue's events from now on.
func (e *env) watch(org, queue string) <-chan *ordereddict.Dict {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	seq, err := e.m.Watch(ctx, org, queue, queues.WatchOptions{})
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	ch := make(chan *ordereddict.Dict, 10000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for row := range seq {
			select {
			case ch <- row:
			default: // the test stopped reading
			}
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	return ch
}

// next waits for a row that matches.
func next(t *testing.T, ch <-chan *ordereddict.Dict, what string, match func(*ordereddict.Dict) bool) *ordereddict.Dict {
	t.Helper()
	timeout := time.After(hang)
	for {
		select {
		case row := <-ch:
			if match(row) {
				return row
			}
		case <-timeout:
			t.Fatalf("no %s within %s", what, hang)
			return nil
		}
	}
}

func anyRow(*ordereddict.Dict) bool { return true }

func has(key string, want any) func(*ordereddict.Dict) bool {
	return func(row *ordereddict.Dict) bool {
		v, ok := row.Get(key)
		return ok && fmt.Sprint(v) == fmt.Sprint(want)
	}
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) entry(org, artifact string) (monitoring.Entry, bool) {
	for _, en := range e.svc.List(org) {
		if en.Artifact == artifact {
			return en, true
		}
	}
	return monitoring.Entry{}, false
}

func (e *env) logText(org, artifact string) string {
	var b strings.Builder
	for _, m := range e.svc.Logs(org, artifact) {
		b.WriteString(m.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// run runs VQL in an org through a real session and returns the rows of
// the last SELECT as JSON, and the log.
func (e *env) run(org, text string) ([]string, []string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	var mu sync.Mutex
	var logs []string
	s := e.engine().NewSession(vql.SessionOptions{Identity: vql.Identity{Org: org, Principal: "server", All: true}, OnLog: func(m vql.Message) {
		mu.Lock()
		logs = append(logs, m.String())
		mu.Unlock()
	}})
	results, err := s.RunText(ctx, text)
	if err != nil {
		e.t.Fatal(err)
	}
	var rows []string
	last := -1
	for r := range results {
		if r.Statement != last {
			rows, last = nil, r.Statement
		}
		b, _ := output.Marshal(r.Row)
		rows = append(rows, string(b))
	}
	mu.Lock()
	defer mu.Unlock()
	return rows, append([]string(nil), logs...)
}

func monitorDef(query string) string {
	return "name: Custom.Monitor\ntype: SERVER_EVENT\nsources:\n  - query: " + query + "\n"
}

const tick = "SELECT Unix AS tick FROM clock(period=0.1)"

func TestRowsReachTheArtifactQueue(t *testing.T) {
	e := newEnv(t)
	e.set("root", monitorDef(tick))
	events := e.watch("root", "Custom.Monitor")
	e.start()
	e.add("root", "Custom.Monitor", nil)
	row := next(t, events, "tick row", func(r *ordereddict.Dict) bool { _, ok := r.Get("tick"); return ok })
	if src, _ := row.GetString("_Source"); src != "server" {
		t.Errorf("_Source = %q, want server: %v", src, row)
	}
	en, ok := e.entry("root", "Custom.Monitor")
	if !ok || en.State != monitoring.StateRunning || en.Restarts != 0 || en.LastError != "" || en.Since.IsZero() {
		t.Errorf("entry %+v", en)
	}
	if logs := e.logText("root", "Custom.Monitor"); !strings.Contains(logs, "started: rows go to Custom.Monitor") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestNamedSourceGoesToItsOwnQueue(t *testing.T) {
	e := newEnv(t)
	e.set("root", `name: Custom.Monitor
type: SERVER_EVENT
sources:
  - query: SELECT 'plain' AS kind FROM clock(period=0.1)
  - name: SourceName
    query: SELECT 'named' AS kind FROM clock(period=0.1)
`)
	plain := e.watch("root", "Custom.Monitor")
	named := e.watch("root", "Custom.Monitor/SourceName")
	e.start()
	e.add("root", "Custom.Monitor", nil)
	for i := 0; i < 3; i++ {
		if r := next(t, plain, "plain row", anyRow); !has("kind", "plain")(r) {
			t.Fatalf("Custom.Monitor got %v", r)
		}
		if r := next(t, named, "named row", anyRow); !has("kind", "named")(r) {
			t.Fatalf("Custom.Monitor/SourceName got %v", r)
		}
	}
	if logs := e.logText("root", "Custom.Monitor"); !strings.Contains(logs, "started: rows go to Custom.Monitor, Custom.Monitor/SourceName") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestTableSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.set("root", "name: Custom.Monitor\ntype: SERVER_EVENT\nparameters:\n  - name: Word\n    default: x\nsources:\n  - query: SELECT Word AS word FROM clock(period=0.1)\n")
	e.start()
	e.add("root", "Custom.Monitor", ordereddict.NewDict().Set("Word", "kept"))

	stored, found, err := e.disk.Get("monitoring/root")
	if err != nil || !found {
		t.Fatalf("no stored table: %v", err)
	}
	var table map[string]any
	if err := json.Unmarshal(stored, &table); err != nil {
		t.Fatalf("stored table is not JSON: %v: %s", err, stored)
	}

	e.restart()
	list := e.svc.List("root")
	if len(list) != 1 || list[0].Artifact != "Custom.Monitor" || list[0].State != monitoring.StateStopped {
		t.Fatalf("before Start: %+v", list)
	}
	if w, _ := list[0].Parameters.GetString("Word"); w != "kept" {
		t.Fatalf("parameters %v", list[0].Parameters)
	}
	events := e.watch("root", "Custom.Monitor")
	e.start()
	next(t, events, "row after restart", has("word", "kept"))
	if en, _ := e.entry("root", "Custom.Monitor"); en.State != monitoring.StateRunning {
		t.Errorf("after Start: %+v", en)
	}
}

func TestArtifactChangesRestartOnce(t *testing.T) {
	e := newEnv(t)
	version := func(v string) string {
		return monitorDef(fmt.Sprintf("SELECT '%s' AS version FROM clock(period=0.1)", v))
	}
	e.set("root", version("v1"))
	events := e.watch("root", "Custom.Monitor")
	e.start()
	e.add("root", "Custom.Monitor", nil)
	next(t, events, "v1 row", has("version", "v1"))

	for _, v := range []string{"v2", "v3", "v4"} {
		e.set("root", version(v))
	}
	row := next(t, events, "row of a new version", func(r *ordereddict.Dict) bool { return !has("version", "v1")(r) })
	if !has("version", "v4")(row) {
		t.Fatalf("first row after the changes: %v, want version v4", row)
	}
	en, _ := e.entry("root", "Custom.Monitor")
	logs := e.logText("root", "Custom.Monitor")
	if en.Restarts != 1 || strings.Count(logs, "changed: restarting its query") != 1 {
		t.Fatalf("restarts %d, want 1; logs:\n%s", en.Restarts, logs)
	}
	if en.State != monitoring.StateRunning {
		t.Errorf("entry %+v", en)
	}
}

func TestDeletedArtifactStopsAndComesBack(t *testing.T) {
	e := newEnv(t)
	e.set("root", monitorDef(tick))
	e.start()
	e.add("root", "Custom.Monitor", nil)
	waitFor(t, "running", func() bool { en, _ := e.entry("root", "Custom.Monitor"); return en.State == monitoring.StateRunning })

	if err := e.m.DeleteArtifact(context.Background(), "root", "Custom.Monitor", "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stopped", func() bool { en, _ := e.entry("root", "Custom.Monitor"); return en.State == monitoring.StateStopped })
	en, _ := e.entry("root", "Custom.Monitor")
	if !strings.Contains(en.LastError, "was deleted") {
		t.Errorf("entry %+v", en)
	}
	if logs := e.logText("root", "Custom.Monitor"); !strings.Contains(logs, "WARN:artifact Custom.Monitor was deleted: its query stopped") {
		t.Errorf("logs:\n%s", logs)
	}

	// Defined again: it runs again.
	e.set("root", monitorDef(tick))
	events := e.watch("root", "Custom.Monitor")
	next(t, events, "tick after the artifact came back", anyRow)
}

func TestFailingQueryRestartsWithBackoff(t *testing.T) {
	e := newEnv(t)
	e.set("root", monitorDef("SELECT * FROM no_such_plugin()"))
	e.start()
	e.add("root", "Custom.Monitor", nil)
	waitFor(t, "three restarts", func() bool { en, _ := e.entry("root", "Custom.Monitor"); return en.Restarts >= 3 })
	en, _ := e.entry("root", "Custom.Monitor")
	if !strings.Contains(en.LastError, "no_such_plugin") {
		t.Errorf("last error %q", en.LastError)
	}
	logs := e.logText("root", "Custom.Monitor")
	for _, want := range []string{
		"ERROR:Plugin no_such_plugin not found",
		"WARN:query ended with an error; restarting in 20ms",
		"WARN:query ended with an error; restarting in 40ms",
		"WARN:query ended with an error; restarting in 80ms",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if i, j := strings.Index(logs, "restarting in 20ms"), strings.Index(logs, "restarting in 40ms"); i > j {
		t.Errorf("backoff out of order:\n%s", logs)
	}
	waitFor(t, "the backoff cap", func() bool {
		return strings.Contains(e.logText("root", "Custom.Monitor"), "restarting in 200ms")
	})
	if logs := e.logText("root", "Custom.Monitor"); strings.Contains(logs, "restarting in 400ms") {
		t.Errorf("backoff not capped:\n%s", logs)
	}
}

func TestQueryThatEndsIsRestarted(t *testing.T) {
	e := newEnv(t)
	opts := testOptions
	opts.Healthy = time.Nanosecond // every run counts as healthy: no growth
	e.svc = monitoring.NewWithOptions(e.m, e.disk, e.engine, opts)
	e.set("root", monitorDef("SELECT Unix FROM clock(period=0.05) LIMIT 2"))
	e.start()
	e.add("root", "Custom.Monitor", nil)
	waitFor(t, "three restarts", func() bool { en, _ := e.entry("root", "Custom.Monitor"); return en.Restarts >= 3 })
	logs := e.logText("root", "Custom.Monitor")
	if !strings.Contains(logs, "WARN:query ended; restarting in 20ms") || strings.Contains(logs, "40ms") || strings.Contains(logs, "ERROR") {
		t.Errorf("logs:\n%s", logs)
	}
	if en, _ := e.entry("root", "Custom.Monitor"); en.LastError != "" {
		t.Errorf("entry %+v", en)
	}
}

func TestLogIsBounded(t *testing.T) {
	e := newEnv(t)
	opts := testOptions
	opts.LogSize = 5
	opts.BackoffMax = opts.BackoffBase
	e.svc = monitoring.NewWithOptions(e.m, e.disk, e.engine, opts)
	e.set("root", monitorDef("SELECT * FROM no_such_plugin()"))
	e.start()
	e.add("root", "Custom.Monitor", nil)
	waitFor(t, "restarts", func() bool { en, _ := e.entry("root", "Custom.Monitor"); return en.Restarts >= 5 })
	logs := e.svc.Logs("root", "Custom.Monitor")
	if len(logs) != 5 {
		t.Fatalf("%d messages kept, want 5", len(logs))
	}
	for i := 1; i < len(logs); i++ {
		if logs[i].Time.Before(logs[i-1].Time) {
			t.Errorf("not oldest first: %v", logs)
		}
	}
}

func TestAlertReportsTheArtifact(t *testing.T) {
	e := newEnv(t)
	e.set("root", monitorDef("SELECT alert(name='A', dedup=-1) AS sent FROM clock(period=0.1)"))
	alerts := e.watch("root", queues.AlertQueue)
	e.start()
	e.add("root", "Custom.Monitor", nil)
	row := next(t, alerts, "alert A", has("name", "A"))
	if a, _ := row.GetString("artifact"); a != "Custom.Monitor" {
		t.Errorf("alert %v: artifact %q, want Custom.Monitor", row, a)
	}
}

func TestRemoveStopsTheQuery(t *testing.T) {
	e := newEnv(t)
	e.set("root", monitorDef(tick))
	events := e.watch("root", "Custom.Monitor")
	e.start()
	e.add("root", "Custom.Monitor", nil)
	next(t, events, "tick", anyRow)

	rows, logs := e.run("root", "SELECT rm_server_monitoring(artifact='Custom.Monitor') AS removed FROM scope()")
	if len(rows) != 1 || rows[0] != `{"removed":true}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
	// Remove waits for the query to end: nothing is sent after it returns.
	stored := func() int64 {
		for _, q := range e.m.Queues("root") {
			if q.Name == "Custom.Monitor" {
				return q.Stored
			}
		}
		return -1
	}
	before := stored()
	time.Sleep(500 * time.Millisecond) // five periods of the clock
	if after := stored(); after != before {
		t.Errorf("%d rows stored after removal", after-before)
	}
	if list := e.svc.List("root"); len(list) != 0 {
		t.Errorf("table %+v", list)
	}
	if _, found, _ := e.disk.Get("monitoring/root"); found {
		t.Errorf("empty table still stored")
	}
	if err := e.svc.Remove(context.Background(), "root", "Custom.Monitor"); err == nil || !strings.Contains(err.Error(), "not in the server monitoring table") {
		t.Errorf("second Remove: %v", err)
	}
}

func TestQueryRemovingItself(t *testing.T) {
	e := newEnv(t)
	e.set("root", "name: Custom.Self\ntype: SERVER_EVENT\nsources:\n  - query: SELECT rm_server_monitoring(artifact='Custom.Self') AS gone FROM clock(period=0.1)\n")
	events := e.watch("root", "Custom.Self")
	e.start()
	e.add("root", "Custom.Self", nil)
	next(t, events, "the row of the removal", has("gone", true))
	waitFor(t, "the entry to go", func() bool { return len(e.svc.List("root")) == 0 })
	e.svc.Stop() // must not hang
}

// TestPreconditionFalseDoesNotRestart: a false precondition, the
// source's or (Velociraptor's format) the artifact's, leaves the source
// idle with a note, neither failed nor restarted.
func TestPreconditionFalseDoesNotRestart(t *testing.T) {
	for _, def := range []string{
		"name: Custom.Monitor\ntype: SERVER_EVENT\nsources:\n  - precondition: SELECT * FROM scope() WHERE FALSE\n    query: SELECT Unix FROM clock(period=0.1)\n",
		"name: Custom.Monitor\ntype: SERVER_EVENT\nprecondition: SELECT * FROM scope() WHERE FALSE\nsources:\n  - query: SELECT Unix FROM clock(period=0.1)\n",
	} {
		e := newEnv(t)
		e.set("root", def)
		e.start()
		e.add("root", "Custom.Monitor", nil)
		waitFor(t, "the precondition note", func() bool {
			return strings.Contains(e.logText("root", "Custom.Monitor"), "precondition is false: source not run")
		})
		if en, _ := e.entry("root", "Custom.Monitor"); en.Restarts != 0 || en.LastError != "" {
			t.Errorf("entry %+v", en)
		}
		e.svc.Stop()
	}
}

func TestAddValidates(t *testing.T) {
	e := newEnv(t)
	e.set("root", "name: Custom.Collect\ntype: CLIENT\nsources:\n  - query: SELECT 1 FROM scope()\n")
	e.set("root", "name: Custom.Internal\ntype: INTERNAL\nsources:\n  - query: SELECT 1 FROM scope()\n")
	e.set("root", "name: Custom.Monitor\ntype: SERVER_EVENT\nparameters:\n  - name: Word\nsources:\n  - query: SELECT Word FROM clock()\n")
	ctx := context.Background()
	for _, c := range []struct {
		artifact string
		params   *ordereddict.Dict
		want     string
	}{
		{"Custom.Nope", nil, "artifact Custom.Nope not known"},
		{"Custom.Collect", nil, "Custom.Collect is a CLIENT artifact; server monitoring runs only SERVER_EVENT artifacts"},
		{"Custom.Internal", nil, "Custom.Internal is an INTERNAL artifact; server monitoring runs only SERVER_EVENT artifacts"},
		{"Server.Audit.Logs", nil, "Server.Audit.Logs has no sources: server monitoring has no query to run"},
		{"Custom.Monitor", ordereddict.NewDict().Set("Nope", 1), "Custom.Monitor has no parameter Nope"},
	} {
		err := e.svc.Add(ctx, "root", c.artifact, c.params)
		if err == nil || err.Error() != c.want {
			t.Errorf("Add(%s): %v, want %q", c.artifact, err, c.want)
		}
	}
	if err := e.svc.Add(ctx, "bad org!", "Custom.Monitor", nil); err == nil {
		t.Errorf("bad org accepted")
	}
	if list := e.svc.List("root"); len(list) != 0 {
		t.Errorf("table %+v", list)
	}
}

func TestVQL(t *testing.T) {
	e := newEnv(t)
	e.set("acme", "name: Custom.Monitor\ntype: SERVER_EVENT\nparameters:\n  - name: Word\n    default: x\nsources:\n  - query: SELECT Word AS word FROM clock(period=0.1)\n")
	e.set("acme", "name: Custom.Collect\ntype: CLIENT\nsources:\n  - query: SELECT 1 FROM scope()\n")
	events := e.watch("acme", "Custom.Monitor")
	e.start()

	rows, logs := e.run("acme", "SELECT add_server_monitoring(artifact='Custom.Monitor', parameters=dict(Word='hello')) AS ok FROM scope()")
	if len(rows) != 1 || rows[0] != `{"ok":true}` || len(logs) != 0 {
		t.Fatalf("add: rows %v logs %v", rows, logs)
	}
	next(t, events, "hello row", has("word", "hello"))

	rows, _ = e.run("acme", "SELECT * FROM foreach(row=get_server_monitoring())")
	if len(rows) != 1 || !strings.HasPrefix(rows[0], `{"artifact":"Custom.Monitor","parameters":{"Word":"hello"},"state":"running","restarts":0,"last_error":"","since":"`) {
		t.Fatalf("get: %v", rows)
	}
	// Orgs are separate.
	if rows, _ := e.run("root", "SELECT get_server_monitoring() AS t FROM scope()"); len(rows) != 1 || rows[0] != `{"t":[]}` {
		t.Errorf("root table: %v", rows)
	}

	rows, logs = e.run("acme", "SELECT * FROM monitoring_logs(artifact='Custom.Monitor')")
	if len(rows) < 2 || !strings.Contains(rows[0], `"level":"INFO","message":"added to the server monitoring table: parameters {\"Word\":\"hello\"}"`) ||
		!strings.Contains(strings.Join(rows, "\n"), `"message":"started: rows go to Custom.Monitor"`) || !strings.HasPrefix(rows[0], `{"time":"`) {
		t.Fatalf("logs: rows %v logs %v", rows, logs)
	}

	for _, c := range []struct{ query, want string }{
		{"SELECT add_server_monitoring(artifact='Custom.Nope') AS r FROM scope()", "ERROR:add_server_monitoring: artifact Custom.Nope not known"},
		{"SELECT add_server_monitoring(artifact='Custom.Collect') AS r FROM scope()", "ERROR:add_server_monitoring: Custom.Collect is a CLIENT artifact; server monitoring runs only SERVER_EVENT artifacts"},
		{"SELECT add_server_monitoring(artifact='Custom.Monitor', parameters='x') AS r FROM scope()", "ERROR:add_server_monitoring: parameters must be a dict"},
		{"SELECT rm_server_monitoring(artifact='Custom.Nope') AS r FROM scope()", "ERROR:rm_server_monitoring: Custom.Nope is not in the server monitoring table of org acme"},
		{"SELECT * FROM monitoring_logs(artifact='Custom.Nope')", "ERROR:monitoring_logs: Custom.Nope is not in the server monitoring table"},
	} {
		rows, logs := e.run("acme", c.query)
		if strings.HasPrefix(c.query, "SELECT *") {
			if len(rows) != 0 {
				t.Errorf("%s: rows %v", c.query, rows)
			}
		} else if len(rows) != 1 || rows[0] != `{"r":null}` {
			t.Errorf("%s: rows %v", c.query, rows)
		}
		if len(logs) != 1 || logs[0] != c.want {
			t.Errorf("%s: logs %v, want %q", c.query, logs, c.want)
		}
	}

	// Every argument is documented.
	svc := func() (*monitoring.Service, error) { return e.svc, nil }
	var infos []vql.Info
	for _, f := range monitoring.Functions(svc) {
		infos = append(infos, f.Info())
	}
	for _, p := range monitoring.Plugins(svc) {
		infos = append(infos, p.Info())
	}
	for _, info := range infos {
		if info.Doc == "" {
			t.Errorf("%s has no doc", info.Name)
		}
		for _, a := range info.Args {
			if a.Doc == "" || strings.Contains(a.Doc, "\n") {
				t.Errorf("%s(%s): doc %q", info.Name, a.Name, a.Doc)
			}
		}
	}
}

func TestServiceNotAvailable(t *testing.T) {
	eng := vqlq.NewEngine()
	for _, f := range monitoring.Functions(func() (*monitoring.Service, error) {
		return nil, fmt.Errorf("server monitoring runs in vqlq serve")
	}) {
		eng.AddFunction(f)
	}
	var logs []string
	s := eng.NewSession(vql.SessionOptions{Identity: vql.Identity{All: true}, OnLog: func(m vql.Message) { logs = append(logs, m.String()) }})
	results, err := s.RunText(context.Background(), "SELECT get_server_monitoring() AS t FROM scope()")
	if err != nil {
		t.Fatal(err)
	}
	for range results {
	}
	if len(logs) != 1 || logs[0] != "ERROR:get_server_monitoring: server monitoring runs in vqlq serve" {
		t.Errorf("logs %v", logs)
	}
}

func TestStopEndsEverything(t *testing.T) {
	e := newEnv(t)
	e.set("root", monitorDef(tick))
	e.set("other", monitorDef("SELECT * FROM no_such_plugin()"))
	e.start()
	e.add("root", "Custom.Monitor", nil)
	e.add("other", "Custom.Monitor", nil)
	waitFor(t, "a restart in org other", func() bool { en, _ := e.entry("other", "Custom.Monitor"); return en.Restarts > 0 })
	e.svc.Stop()
	for _, org := range []string{"root", "other"} {
		if en, _ := e.entry(org, "Custom.Monitor"); en.State != monitoring.StateStopped {
			t.Errorf("%s: %+v", org, en)
		}
	}
	// Start again: the entries run again.
	events := e.watch("root", "Custom.Monitor")
	e.start()
	next(t, events, "tick after a second Start", anyRow)
}
