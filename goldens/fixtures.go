package goldens

import (
	"context"
	"iter"
	"path/filepath"
	"sync"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
)

// Fixture is the environment Velociraptor's golden runner gives one test
// file, rebuilt on vqlq: the full engine of a data folder (every built-in,
// the queue, artifact and monitoring vocabulary) in a session of the
// folder's owner, the file's Parameters as variables, and the fixtures the
// files call:
//
//   - test_read_logs() yields the session's log since the last call (it
//     drains it, as cache's 7th query shows), one row {Log} a line, each
//     line as the golden runner's logger writes it
//     ("Velociraptor: LEVEL:text\n"); before each query the runner logs
//     "Running query <text>", and so does Run.
//   - the client of Velociraptor's test data store, C.4f5e52adf0a337a9, a
//     Windows machine with no labels, is enrolled in the fleet's registry
//     (the labels file lists and labels it).
//
// The golden runner also freezes Velociraptor's clock at 1590938885
// (2020-05-31T15:28:05Z); no qualifying query prints a time that depends
// on the clock (clock() is read as `Unix > 1630414425`, true either way),
// so the fixture keeps the real one.
type Fixture struct {
	backend *runner.Backend
	session *vql.Session

	mu   sync.Mutex
	logs []string
}

// NewFixture opens a fixture on the data folder dir (created when first
// needed) with the file's parameters set. Close it after use.
func NewFixture(dir string, params map[string]string) *Fixture {
	f := &Fixture{backend: &runner.Backend{Flags: &runner.StoreFlags{DataDir: dir}}}
	e := f.backend.Engine()
	e.AddPlugin(vql.PluginFunc{
		Meta: vql.Info{Name: "test_read_logs", Doc: "Test fixture: the session's log since the last call, one row {Log} a line."},
		Fn:   f.readLogs,
	})
	f.session = e.NewSession(vql.SessionOptions{
		Identity:  f.backend.Owner(queues.DefaultOrg),
		UploadDir: filepath.Join(dir, runner.UploadsDir),
		OnLog:     func(m vql.Message) { f.log(m.String()) },
	})
	for k, v := range params {
		f.session.Scope().Set(k, v)
	}
	if m, err := f.backend.Manager(); err == nil {
		// A failure shows as the labels file's queries failing.
		_ = fleet.Of(m).Put(queues.DefaultOrg, fleet.Client{ClientID: TestClientID, System: "windows"})
	}
	return f
}

// TestClientID is the client of Velociraptor's test data store.
const TestClientID = "C.4f5e52adf0a337a9"

// Engine is the fixture's engine, for the check that decides which files
// qualify.
func (f *Fixture) Engine() *vql.Engine { return f.backend.Engine() }

// Session is where the file's queries run, in order.
func (f *Fixture) Session() *vql.Session { return f.session }

// Close ends the session (its temporary files go) and closes the data
// folder if a query opened it.
func (f *Fixture) Close() {
	f.session.Close()
	f.backend.Close()
}

// Running logs the line the golden runner logs before each query.
func (f *Fixture) Running(query string) { f.log("Running query " + query) }

func (f *Fixture) log(line string) {
	f.mu.Lock()
	f.logs = append(f.logs, "Velociraptor: "+line+"\n")
	f.mu.Unlock()
}

func (f *Fixture) readLogs(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
	f.mu.Lock()
	lines := f.logs
	f.logs = nil
	f.mu.Unlock()
	return func(yield func(vql.Row) bool) {
		for _, l := range lines {
			if !yield(ordereddict.NewDict().Set("Log", l)) {
				return
			}
		}
	}
}
