package queues_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/sharedfolder"
	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// env is a manager on a real badger store in a temporary folder, and a way
// to run VQL against it in an org.
type env struct {
	t    *testing.T
	dir  string
	defs string
	disk *queues.BadgerStore
	m    *queues.Manager
}

func newEnv(t *testing.T, defs map[string]string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	if len(defs) > 0 {
		e.defs = t.TempDir()
		for name, text := range defs {
			if err := os.WriteFile(filepath.Join(e.defs, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.open()
	t.Cleanup(func() { e.close() })
	return e
}

func (e *env) open() {
	disk, err := queues.OpenBadger(e.dir, queues.SyncFlush)
	if err != nil {
		e.t.Fatal(err)
	}
	// Artifacts are checked as the command checks them.
	m, err := queues.New(queues.Options{Disk: disk, Definitions: e.defs, Check: plugins.ArtifactChecker(e.engine())})
	if err != nil {
		e.t.Fatal(err)
	}
	e.disk, e.m = disk, m
}

func (e *env) close() {
	if e.m != nil {
		e.m.Close()
		e.m = nil
	}
}

// restart closes the store and opens it again, as a new process would.
func (e *env) restart() {
	e.close()
	e.open()
}

func (e *env) engine() *vql.Engine {
	return vqlq.NewQueueEngine(func() (*queues.Manager, error) { return e.m, nil })
}

// owner is the identity of the data folder's owner in an org, as the
// command line has it.
func owner(org string) vql.Identity {
	return vql.Identity{Org: org, Principal: "server", All: true, AllOrgs: true}
}

// run runs VQL in an org and returns the rows of the last SELECT as JSON
// lines, and the log.
func (e *env) run(org, text string) ([]string, []string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.runCtx(ctx, org, text)
}

func (e *env) runCtx(ctx context.Context, org, text string) ([]string, []string) {
	e.t.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		e.t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []string
	s := e.engine().NewSession(vql.SessionOptions{Identity: owner(org), OnLog: func(m vql.Message) {
		mu.Lock()
		logs = append(logs, m.String())
		mu.Unlock()
	}})
	var rows []string
	last := -1
	// Rows are kept as they come: the output has every row produced.
	ctx = queues.WithAckBarrier(ctx, func() error { return nil })
	for r := range s.Run(ctx, prog) {
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

const receive = "name: Server.Events.Receive\ntype: SERVER_EVENT\n"

// sharedFile finds a file of the project's shared folder, or skips.
func sharedFile(t *testing.T, rel string) string {
	p, tried, ok := sharedfolder.Find(rel)
	if !ok {
		t.Skipf("shared/%s not found; looked in %s (set VQLQ_SHARED_DIR)", rel, strings.Join(tried, ", "))
	}
	return p
}

func TestUserQueriesGiveTheSeedTables(t *testing.T) {
	data, err := os.ReadFile(sharedFile(t, "spec/builtin_queues.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Query string            `json:"query"`
		Rows  []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	for name, table := range want {
		got, logs := e.run("root", table.Query)
		if len(got) != len(table.Rows) {
			t.Errorf("%s: %d rows, want %d\n%v\nlogs %v", name, len(got), len(table.Rows), got, logs)
			continue
		}
		for i := range got {
			var w any
			json.Unmarshal(table.Rows[i], &w)
			wb, _ := output.Marshal(w)
			// The expected rows are written name first; compare in that order.
			var g any
			json.Unmarshal([]byte(got[i]), &g)
			gb, _ := output.Marshal(g)
			if string(gb) != string(wb) || !strings.HasPrefix(got[i], `{"name":`) {
				t.Errorf("%s row %d:\n got %s\nwant %s", name, i, got[i], wb)
			}
		}
	}
}

func TestSeedWalkthrough(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	rows, logs := e.run("root", `SELECT * FROM chain(async=TRUE, a={SELECT * FROM watch_monitoring(artifact="Server.Events.Receive") LIMIT 1}, b={SELECT send_event(row=dict(a=1,b=2,c=3), artifact="Server.Events.Receive") AS Sent FROM scope() WHERE sleep(time=1)})`)
	var event string
	for _, r := range rows {
		if !strings.HasPrefix(r, `{"Sent"`) {
			event = r
		}
	}
	if len(rows) != 2 || !strings.HasPrefix(event, `{"a":1,"b":2,"c":3,"_ts":`) || !strings.HasSuffix(event, `,"_Source":"server"}`) {
		t.Fatalf("rows %v logs %v", rows, logs)
	}

	rows, logs = e.run("root", `SELECT * FROM chain(async=TRUE, a={SELECT * FROM watch_monitoring(artifact='Server.Internal.Alerts') LIMIT 1}, b={SELECT alert(dedup=-1, name="Test Alert") AS A FROM scope() WHERE sleep(time=0.5)})`)
	found := false
	for _, r := range rows {
		found = found || (strings.HasPrefix(r, `{"name":"Test Alert","timestamp":"`) && strings.Contains(r, `"event_data":{},"artifact":"","client_id":"server","_ts":`))
	}
	if !found {
		t.Fatalf("alert not seen: rows %v logs %v", rows, logs)
	}
}

func TestDiskQueuesSurviveRestartInternalNeverWritten(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	e.run("root", `SELECT send_event(row=dict(n=1), artifact="Server.Events.Receive") FROM scope()`)
	// Users cannot send to an INTERNAL queue; the server can, from Go, and
	// a watcher sees the event, but the store never does.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := e.m.Watch(ctx, "root", "Server.Internal.Label", queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Send(context.Background(), "root", "Server.Internal.Label", ordereddict.NewDict().Set("secret", "internal-only"), queues.Sender{Principal: "server", Internal: true}); err != nil {
		t.Fatal(err)
	}
	for row := range seq {
		if v, _ := row.Get("secret"); v != "internal-only" {
			t.Errorf("watcher got %v", row)
		}
		break
	}
	keys, err := e.disk.Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "Server.Internal.Label") {
			t.Errorf("INTERNAL queue written to disk: %q", k)
		}
	}
	e.restart()
	rows, _ := e.run("root", `SELECT n FROM source(artifact="Server.Events.Receive")`)
	if len(rows) != 1 || rows[0] != `{"n":1}` {
		t.Fatalf("after restart: %v", rows)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, map[string]string{
		"r.yaml":       receive,
		"client.yaml":  "name: Custom.Client.Events\ntype: CLIENT_EVENT\n",
		"collect.yaml": "name: Custom.Collect\nsources:\n  - query: SELECT 1 AS x FROM scope()\n",
	})
	tests := []struct {
		query, want string
	}{
		{`SELECT send_event(artifact='Custom.Nope', row=dict(a=1)) AS r FROM scope()`, "send_event: artifact Custom.Nope not known"},
		{`SELECT send_event(artifact='Server.Internal.Label', row=dict(a=1)) AS r FROM scope()`, "send_event: cannot send to Server.Internal.Label: it is an INTERNAL artifact; send_event only sends to SERVER_EVENT queues"},
		{`SELECT send_event(artifact='Custom.Client.Events', row=dict(a=1)) AS r FROM scope()`, "send_event: cannot send to Custom.Client.Events: it is a CLIENT_EVENT artifact; send_event only sends to SERVER_EVENT queues"},
		{`SELECT send_event(artifact='Custom.Collect', row=dict(a=1)) AS r FROM scope()`, "send_event: cannot send to Custom.Collect: it is a CLIENT artifact; send_event only sends to SERVER_EVENT queues"},
		{`SELECT send_event(artifact='Server.Events.Receive', row='text') AS r FROM scope()`, "send_event: row must be a dict, not string"},
		{`SELECT * FROM watch_monitoring(artifact='Custom.Nope')`, "watch_monitoring: artifact Custom.Nope not known"},
		{`SELECT * FROM watch_monitoring(artifact='Custom.Collect')`, "watch_monitoring: Custom.Collect is a CLIENT artifact; only event artifacts have queues"},
		{`SELECT artifact_set(definition='name: Server.Audit.Logs') AS r FROM scope()`, "a user definition cannot replace built-in artifact Server.Audit.Logs"},
		{`SELECT artifact_set(definition="name: Custom.X\ntypo: 1\n") AS r FROM scope()`, `unknown field "typo"`},
		{`SELECT artifact_set(definition="name: Custom.X\nsources: [\n") AS r FROM scope()`, "artifact_set:"},
	}
	for _, tt := range tests {
		rows, logs := e.run("root", tt.query)
		all := strings.Join(logs, "\n")
		if !strings.Contains(all, tt.want) {
			t.Errorf("%s\n logs %q\n want %q", tt.query, logs, tt.want)
		}
		for _, r := range rows {
			if r != `{"r":null}` {
				t.Errorf("%s: row %s", tt.query, r)
			}
		}
	}
	// A definitions folder that redefines a built-in with another type is
	// left out: the built-in stays. With the same type it replaces it.
	for _, tt := range []struct{ typ, wantDescription string }{{"CLIENT_EVENT", ""}, {"SERVER_EVENT", "mine"}} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "alerts.yaml"), []byte("name: Server.Internal.Alerts\ndescription: mine\ntype: "+tt.typ+"\n"), 0o644)
		disk, _ := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
		m, err := queues.New(queues.Options{Disk: disk, Definitions: dir})
		if err != nil {
			t.Fatalf("definitions folder redefining a built-in as %s: %v", tt.typ, err)
		}
		a, ok := m.Repository().Get("root", "Server.Internal.Alerts")
		if !ok || a.Type != artifacts.TypeServerEvent || (a.Description == "mine") != (tt.wantDescription == "mine") {
			t.Errorf("redefined as %s: %+v", tt.typ, a)
		}
		m.Close()
	}
}

// TestArtifactVQLIsCheckedWhenSet: artifact_set with VQL naming an unknown
// plugin or function is refused with every problem at its line and column
// in the definition, and nothing is stored; from a definitions folder,
// such an artifact is left out and sending to it says why.
func TestArtifactVQLIsCheckedWhenSet(t *testing.T) {
	e := newEnv(t, nil)
	def := "name: Custom.Broken\ntype: SERVER_EVENT\nparameters:\n- name: N\nsources:\n- query: |\n    SELECT upcse(string=ArtifactName) FROM range(end=N)\n    SELECT * FROM rnage(end=N)\n"
	_, logs := e.run("root", `SELECT artifact_set(definition='''`+def+`''') AS r FROM scope()`)
	want := "artifact_set: 7:12: unknown function upcse (did you mean upcase?)\n" +
		"    SELECT upcse(string=ArtifactName) FROM range(end=N)\n           ^\n" +
		"8:19: unknown plugin rnage (did you mean range?)\n" +
		"    SELECT * FROM rnage(end=N)\n                  ^"
	if len(logs) != 1 || !strings.HasSuffix(logs[0], want) {
		t.Errorf("logs %q\nwant %q", logs, want)
	}
	e.restart()
	if rows, _ := e.run("root", `SELECT name FROM artifact_definitions() WHERE name = 'Custom.Broken'`); len(rows) != 0 {
		t.Errorf("a refused definition was stored: %v", rows)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(def), 0o644)
	disk, _ := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	defer disk.Close()
	m, err := queues.New(queues.Options{Disk: disk, Definitions: dir, Check: plugins.ArtifactChecker(e.engine())})
	if err != nil {
		t.Fatalf("folder: %v", err)
	}
	// From the folder, it is left out (not refusing the folder), and
	// naming it says why.
	broken := filepath.Join(dir, "broken.yaml")
	why := broken + ":7:12: unknown function upcse (did you mean upcase?); " + broken + ":8:19: unknown plugin rnage (did you mean range?); artifact Custom.Broken is not loaded"
	if got := m.Repository().NotLoaded(); len(got) != 1 || got[0].Error() != why {
		t.Errorf("not loaded: %v\nwant %s", got, why)
	}
	if _, err := m.CheckSend("root", "Custom.Broken", queues.ServerSender); !errors.Is(err, queues.ErrUnknownQueue) || err.Error() != "send_event: artifact Custom.Broken not known: "+why {
		t.Errorf("send to it: %v", err)
	}
}

func TestOrgsAreIsolated(t *testing.T) {
	e := newEnv(t, nil)
	def := `name: Custom.Org.Events
type: SERVER_EVENT`
	if rows, logs := e.run("acme", `SELECT artifact_set(definition='''`+def+`''').name AS r FROM scope()`); len(rows) != 1 || rows[0] != `{"r":"Custom.Org.Events"}` {
		t.Fatalf("artifact_set: %v %v", rows, logs)
	}
	e.run("acme", `SELECT send_event(artifact='Custom.Org.Events', row=dict(v=1)) FROM scope()`)
	e.run("acme", `SELECT alert(name='A', x=1) FROM scope()`)
	// Org globex sees neither the artifact, its events, nor the alert window.
	_, logs := e.run("globex", `SELECT * FROM source(artifact='Custom.Org.Events')`)
	if !strings.Contains(strings.Join(logs, "\n"), "source: artifact Custom.Org.Events not known") {
		t.Errorf("globex sees acme's artifact: %v", logs)
	}
	if rows, _ := e.run("globex", `SELECT name FROM artifact_definitions() WHERE name =~ 'Custom'`); len(rows) != 0 {
		t.Errorf("globex lists %v", rows)
	}
	if rows, _ := e.run("globex", `SELECT alert(name='A', x=1) AS sent FROM scope()`); len(rows) != 1 || rows[0] != `{"sent":true}` {
		t.Errorf("globex alert window shared: %v", rows)
	}
	if rows, _ := e.run("globex", `SELECT * FROM source(artifact='Server.Internal.Alerts')`); len(rows) != 1 {
		t.Errorf("globex alerts: %v", rows)
	}
	if rows, _ := e.run("acme", `SELECT alert(name='A', x=1) AS sent FROM scope()`); len(rows) != 1 || rows[0] != `{"sent":false}` {
		t.Errorf("acme alert not deduplicated: %v", rows)
	}
	if rows, _ := e.run("acme", `SELECT v FROM source(artifact='Custom.Org.Events')`); len(rows) != 1 || rows[0] != `{"v":1}` {
		t.Errorf("acme events: %v", rows)
	}
	if rows, _ := e.run("root", `SELECT name FROM queues() WHERE name =~ 'Custom'`); len(rows) != 0 {
		t.Errorf("root queues: %v", rows)
	}
}

func TestStartTimeReplaysThenGoesLive(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	e.run("root", `SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) FROM range(end=5)`)
	// Replay from the beginning, then three live events sent while the
	// watcher runs: eight rows, in order, no gap, no duplicate.
	rows, logs := e.run("root", `SELECT * FROM chain(async=TRUE,
		a={SELECT i FROM watch_monitoring(artifact='Server.Events.Receive', start_time=0) LIMIT 8},
		b={SELECT * FROM foreach(row={SELECT * FROM range(start=5, end=8) WHERE sleep(time=0.05)},
		                         query={SELECT * FROM scope() WHERE send_event(artifact='Server.Events.Receive', row=dict(i=_value)) AND FALSE})})`)
	want := `{"i":0} {"i":1} {"i":2} {"i":3} {"i":4} {"i":5} {"i":6} {"i":7}`
	if strings.Join(rows, " ") != want {
		t.Fatalf("got %v\nwant %s\nlogs %v", rows, want, logs)
	}
	// start_time in the future of all stored events: live only.
	rows, _ = e.run("root", `SELECT count() AS n FROM source(artifact='Server.Events.Receive', start_time=now() + 3600)`)
	if len(rows) != 0 {
		t.Errorf("future start_time: %v", rows)
	}
}

func TestConsumerResumesAfterRestart(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	e.run("root", `SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) FROM range(end=5)`)
	// First run of a named consumer starts live (nothing yet) unless given a
	// start_time; take the first three from the start.
	rows, _ := e.run("root", `SELECT i FROM watch_monitoring(artifact='Server.Events.Receive', consumer='fwd', start_time=0) LIMIT 3`)
	if strings.Join(rows, " ") != `{"i":0} {"i":1} {"i":2}` {
		t.Fatalf("first run: %v", rows)
	}
	e.restart()
	e.run("root", `SELECT send_event(artifact='Server.Events.Receive', row=dict(i=5)) FROM scope()`)
	rows, _ = e.run("root", `SELECT i FROM watch_monitoring(artifact='Server.Events.Receive', consumer='fwd') LIMIT 3`)
	if strings.Join(rows, " ") != `{"i":3} {"i":4} {"i":5}` {
		t.Fatalf("resumed: %v", rows)
	}
}

func TestArtifactsAtRunTime(t *testing.T) {
	e := newEnv(t, nil)
	def := `name: Custom.X
parameters:
  - name: P
    default: dflt
  - name: N
    type: int
    default: "2"
sources:
  - query: SELECT P, N + 1 AS M, ArtifactName FROM scope()
`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mods, err := e.m.Watch(ctx, "root", queues.ArtifactModificationQueue, queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := e.m.Watch(ctx, "root", queues.AuditQueue, queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rows, logs := e.run("root", `SELECT artifact_set(definition='''`+def+`''').name AS n FROM scope()`); len(rows) != 1 || rows[0] != `{"n":"Custom.X"}` {
		t.Fatalf("artifact_set: %v %v", rows, logs)
	}
	for row := range mods {
		b, _ := output.Marshal(row)
		if !strings.HasPrefix(string(b), `{"artifact":"Custom.X","op":"set","principal":"server","_ts":`) {
			t.Errorf("modification event %s", b)
		}
		break
	}
	for row := range audit {
		b, _ := output.Marshal(row)
		if !strings.HasPrefix(string(b), `{"operation":"artifact_set","principal":"server","details":{"artifact":"Custom.X"}`) {
			t.Errorf("audit event %s", b)
		}
		break
	}
	e.restart()
	rows, logs := e.run("root", `SELECT * FROM Artifact.Custom.X(P='v')`)
	if len(rows) != 1 || rows[0] != `{"P":"v","M":3,"ArtifactName":"Custom.X"}` {
		t.Fatalf("artifact as plugin after restart: %v %v", rows, logs)
	}
	rows, _ = e.run("root", `SELECT * FROM Artifact.Custom.X()`)
	if len(rows) != 1 || rows[0] != `{"P":"dflt","M":3,"ArtifactName":"Custom.X"}` {
		t.Fatalf("defaults: %v", rows)
	}
	if rows, logs := e.run("root", `SELECT artifact_delete(name='Custom.X') AS d FROM scope()`); len(rows) != 1 || rows[0] != `{"d":true}` {
		t.Fatalf("delete: %v %v", rows, logs)
	}
	e.restart()
	if rows, _ := e.run("root", `SELECT name FROM artifact_definitions() WHERE name = 'Custom.X'`); len(rows) != 0 {
		t.Errorf("deleted artifact back after restart: %v", rows)
	}
	rows, _ = e.run("root", `SELECT op FROM source(artifact='Server.Internal.ArtifactModification')`)
	if strings.Join(rows, " ") != `{"op":"set"} {"op":"delete"}` {
		t.Errorf("modifications stored: %v", rows)
	}
}

func TestDeletingAnArtifactEndsItsWatchers(t *testing.T) {
	e := newEnv(t, nil)
	e.run("root", `SELECT artifact_set(definition='name: Custom.Q\ntype: SERVER_EVENT') FROM scope()`)
	rows, logs := e.run("root", `SELECT * FROM chain(async=TRUE,
		a={SELECT * FROM watch_monitoring(artifact='Custom.Q')},
		b={SELECT artifact_delete(name='Custom.Q') AS deleted FROM scope() WHERE sleep(time=0.3)})`)
	if len(rows) != 1 || rows[0] != `{"deleted":true}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
}

func TestCollectSendsFlowCompletion(t *testing.T) {
	e := newEnv(t, map[string]string{"c.yaml": "name: Custom.Collect\ntype: CLIENT\nsources:\n  - query: SELECT _value AS v FROM range(end=3)\n"})
	rows, logs := e.run("root", `SELECT * FROM chain(async=TRUE,
		a={SELECT Artifact, TotalRows, State, FlowId =~ '^F\.' AS id, Duration >= 0 AS d FROM watch_monitoring(artifact='System.Flow.Completion') LIMIT 1},
		b={SELECT * FROM scope() WHERE sleep(time=0.3) AND collect(artifact='Custom.Collect').TotalRows = 99})`)
	if len(rows) != 1 || rows[0] != `{"Artifact":"Custom.Collect","TotalRows":3,"State":"FINISHED","id":true,"d":true}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
	rows, _ = e.run("root", `SELECT collect(artifact='Custom.Collect').Results.v AS v FROM scope()`)
	if len(rows) != 1 || rows[0] != `{"v":[0,1,2]}` {
		t.Errorf("results: %v", rows)
	}
}

func TestAlertDedup(t *testing.T) {
	e := newEnv(t, nil)
	rows, logs := e.run("root", `SELECT alert(name='X', extra=1) AS a, alert(name='X') AS b, alert(name='X', dedup=-1) AS c, alert(name='X', condition=FALSE) AS d FROM scope()`)
	if len(rows) != 1 || rows[0] != `{"a":true,"b":false,"c":true,"d":null}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
	if !strings.Contains(strings.Join(logs, "\n"), `INFO:alert "X" suppressed: sent 0s ago, dedup window 7200s`) {
		t.Errorf("logs %v", logs)
	}
	e.restart()
	if rows, _ := e.run("root", `SELECT alert(name='X') AS a FROM scope()`); rows[0] != `{"a":false}` {
		t.Errorf("window lost on restart: %v", rows)
	}
	rows, _ = e.run("root", `SELECT name, event_data FROM source(artifact='Server.Internal.Alerts')`)
	if strings.Join(rows, " ") != `{"name":"X","event_data":{"extra":1}} {"name":"X","event_data":{}}` {
		t.Errorf("stored alerts: %v", rows)
	}
}

// queues() and the debug page say which query each watcher serves.
func TestWatcherIsDescribedByItsQuery(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.runCtx(ctx, "root", "SELECT a FROM watch_monitoring(artifact='Server.Events.Receive') WHERE a > 1")
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, q := range e.m.Queues("root") {
			if q.Name == "Server.Events.Receive" && len(q.WatcherList) == 1 {
				if got := q.WatcherList[0].Describe; got != "SELECT a FROM watch_monitoring(artifact='Server.Events.Receive') WHERE a > 1" {
					t.Fatalf("described as %q", got)
				}
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("watcher never registered")
}
