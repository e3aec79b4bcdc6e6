// Package monitoring runs server monitoring: the sources of the
// SERVER_EVENT artifacts in an org's monitoring table run as long-running
// queries on the server, and their rows go to the artifact's queue (a named
// source's rows to `Artifact/Source`).
//
// The table of each org is kept in the store under `monitoring/<org>`, so
// it survives a restart. A query that ends is restarted with exponential
// backoff; changing an artifact restarts its query (several quick changes
// give one restart); deleting it stops its query. Each entry keeps the last
// messages of its queries in memory (Logs).
package monitoring

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// The states of an entry, as Entry.State and get_server_monitoring() show
// them.
const (
	// StateRunning: every source's query is running.
	StateRunning = "running"
	// StateRestarting: a source's query ended and waits to be restarted.
	StateRestarting = "restarting"
	// StateStopped: nothing runs (the service is not running, or the
	// artifact is missing or no longer a SERVER_EVENT artifact).
	StateStopped = "stopped"
)

// Options tune a Service. Zero values take the defaults.
type Options struct {
	// BackoffBase is the wait before the first restart of a query that
	// ended (default 1s); each further restart doubles it.
	BackoffBase time.Duration
	// BackoffMax caps the wait (default 60s).
	BackoffMax time.Duration
	// Healthy is how long a query must run for its backoff to start again
	// from BackoffBase (default 1 minute).
	Healthy time.Duration
	// Debounce is how long the service waits after a change of an artifact
	// for more changes before restarting its query (default 500ms).
	Debounce time.Duration
	// LogSize is how many messages each entry keeps (default 500).
	LogSize int
	// Deny are permissions the monitoring queries never hold (vqlq serve
	// --deny); they hold every other.
	Deny []vql.Permission
	// UploadDir is where the queries' upload() stores files (the data
	// folder's uploads/; none when empty).
	UploadDir string
}

func (o Options) withDefaults() Options {
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 60 * time.Second
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.Healthy <= 0 {
		o.Healthy = time.Minute
	}
	if o.Debounce <= 0 {
		o.Debounce = 500 * time.Millisecond
	}
	if o.LogSize <= 0 {
		o.LogSize = 500
	}
	return o
}

// Entry is one row of an org's monitoring table, with the state of its
// queries.
type Entry struct {
	// Artifact is the SERVER_EVENT artifact whose sources run.
	Artifact string
	// Parameters are the values given to the artifact's parameters (nil:
	// the defaults).
	Parameters *ordereddict.Dict
	// State is StateRunning, StateRestarting or StateStopped.
	State string
	// Restarts counts the times the entry's queries were started again:
	// after ending, or because the artifact or the entry changed.
	Restarts int
	// LastError is the last error its queries logged ("" when none).
	LastError string
	// Since is when the entry entered its current state.
	Since time.Time
}

// Service runs the monitoring tables of every org of a queue manager.
type Service struct {
	m      *queues.Manager
	kv     artifacts.Storage
	engine func() *vql.Engine
	opts   Options

	mu      sync.Mutex
	tables  map[string]map[string]*entry // org -> artifact -> entry
	running bool
	ctx     context.Context
	cancel  context.CancelFunc
	watched map[string]bool // orgs whose artifact changes are watched
	wg      sync.WaitGroup  // every goroutine the service started
}

// New returns a service over a queue manager. kv is the store the tables
// are kept in (the manager's disk store); engine returns the engine the
// monitoring queries run on (each in a session of its artifact's org).
// Nothing runs until Start.
func New(m *queues.Manager, kv artifacts.Storage, engine func() *vql.Engine) *Service {
	return NewWithOptions(m, kv, engine, Options{})
}

// NewWithOptions is New with tuning (tests shorten the backoff).
func NewWithOptions(m *queues.Manager, kv artifacts.Storage, engine func() *vql.Engine, opts Options) *Service {
	return &Service{m: m, kv: kv, engine: engine, opts: opts.withDefaults(), tables: map[string]map[string]*entry{}}
}

// Start loads the table of every org and starts every entry; it watches
// Server.Internal.ArtifactModification of each org that has entries, to
// restart an entry whose artifact changes. A table that cannot be read is
// an error, and then nothing starts. Entries whose artifact is missing
// stay stopped, with the reason in their log.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("monitoring: already running")
	}
	var errs []error
	for _, org := range s.orgs() {
		if _, err := s.tableLocked(org); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		return errors.Join(errs...)
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.running = true
	s.watched = map[string]bool{}
	var start []*entry
	for org, t := range s.tables {
		if len(t) > 0 {
			s.watchLocked(org)
		}
		for _, e := range t {
			start = append(start, e)
		}
	}
	s.mu.Unlock()
	sort.Slice(start, func(i, j int) bool {
		if start[i].org != start[j].org {
			return start[i].org < start[j].org
		}
		return start[i].artifact < start[j].artifact
	})
	for _, e := range start {
		e.op.Lock()
		s.startRun(e)
		e.op.Unlock()
	}
	return nil
}

// orgs lists the orgs that may have a table: those the manager knows and
// those with a stored table.
func (s *Service) orgs() []string {
	set := map[string]bool{}
	for _, o := range s.m.Orgs() {
		set[o] = true
	}
	_ = s.kv.Scan(tablePrefix, func(key string, _ []byte) error {
		set[strings.TrimPrefix(key, tablePrefix)] = true
		return nil
	})
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// Stop cancels every query and waits for them to end; call it before
// closing the manager. The tables stay as they are; Start runs them again.
func (s *Service) Stop() {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return
	}
	s.running = false
	s.cancel()
	for _, t := range s.tables {
		for _, e := range t {
			if e.timer != nil {
				e.timer.Stop()
				e.timer = nil
			}
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	for _, t := range s.tables {
		for _, e := range t {
			if e.run != nil {
				e.run = nil
				e.refresh()
			}
		}
	}
	s.mu.Unlock()
}

// Add puts an artifact in an org's monitoring table with the given
// parameters (nil: the defaults), stores the table, and starts the
// artifact's queries at once if the service is running. Adding an artifact
// that is already there replaces its parameters and restarts it. The
// artifact must exist, be a SERVER_EVENT artifact and have sources; every
// parameter must be one the artifact declares.
func (s *Service) Add(ctx context.Context, org, artifact string, params *ordereddict.Dict) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := queues.CheckOrg(org); err != nil {
		return err
	}
	s.mu.Lock()
	a, err := s.check(org, artifact)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if err := checkParams(a, params); err != nil {
		s.mu.Unlock()
		return err
	}
	t, err := s.tableLocked(org)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	e, existed := t[artifact]
	if !existed {
		e = s.newEntry(org, artifact)
		t[artifact] = e
	}
	oldParams := e.params
	if params != nil {
		params = params.Copy()
	}
	e.params = params
	if err := s.saveLocked(org); err != nil {
		if existed {
			e.params = oldParams
		} else {
			delete(t, artifact)
		}
		s.mu.Unlock()
		return err
	}
	running := s.running
	if running {
		s.watchLocked(org)
	}
	s.mu.Unlock()

	if existed {
		e.note(vql.LevelInfo, "entry updated: parameters %s", paramText(params))
	} else {
		e.note(vql.LevelInfo, "added to the server monitoring table: parameters %s", paramText(params))
	}
	if running {
		s.withEntry(ctx, e, func() {
			if s.stopRun(e) {
				s.mu.Lock()
				e.restarts++
				s.mu.Unlock()
			}
			s.startRun(e)
		})
	}
	return nil
}

// Remove takes an artifact out of an org's monitoring table, stores the
// table, and stops its queries (waiting for them to end).
func (s *Service) Remove(ctx context.Context, org, artifact string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := queues.CheckOrg(org); err != nil {
		return err
	}
	s.mu.Lock()
	t, err := s.tableLocked(org)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	e, ok := t[artifact]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("%s is not in the server monitoring table of org %s", artifact, org)
	}
	delete(t, artifact)
	if err := s.saveLocked(org); err != nil {
		t[artifact] = e
		s.mu.Unlock()
		return err
	}
	e.removed = true
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	s.mu.Unlock()
	s.withEntry(ctx, e, func() { s.stopRun(e) })
	return nil
}

// List returns an org's monitoring table, sorted by artifact name. A table
// that cannot be read lists nothing (Add and Start report the error).
func (s *Service) List(org string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableLocked(org)
	if err != nil {
		return nil
	}
	out := make([]Entry, 0, len(t))
	for _, e := range t {
		var params *ordereddict.Dict
		if e.params != nil {
			params = e.params.Copy()
		}
		out = append(out, Entry{
			Artifact: e.artifact, Parameters: params, State: e.state,
			Restarts: e.restarts, LastError: e.lastError, Since: e.since,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Artifact < out[j].Artifact })
	return out
}

// Logs returns the last messages of an entry's queries, oldest first: the
// engine's log and the service's own notes (starts, restarts, changes).
// It is nil when the artifact is not in the table.
func (s *Service) Logs(org, artifact string) []vql.Message {
	s.mu.Lock()
	t, err := s.tableLocked(org)
	var e *entry
	if err == nil {
		e = t[artifact]
	}
	s.mu.Unlock()
	if e == nil {
		return nil
	}
	return e.logs.snapshot()
}

// check finds an artifact that server monitoring can run.
func (s *Service) check(org, name string) (*artifacts.Artifact, error) {
	a, ok := s.m.Repository().Get(org, name)
	if !ok {
		return nil, fmt.Errorf("artifact %s not known%s", name, s.m.Repository().Missing(org, name))
	}
	if a.Type != artifacts.TypeServerEvent {
		return nil, fmt.Errorf("%s is a%s %s artifact; server monitoring runs only SERVER_EVENT artifacts", name, article(string(a.Type)), a.Type)
	}
	if len(a.Sources) == 0 {
		return nil, fmt.Errorf("%s has no sources: server monitoring has no query to run", name)
	}
	return a, nil
}

// checkParams refuses parameters the artifact does not declare.
func checkParams(a *artifacts.Artifact, params *ordereddict.Dict) error {
	if params == nil {
		return nil
	}
	known := map[string]bool{}
	for _, p := range a.Parameters {
		known[p.Name] = true
	}
	for _, k := range params.Keys() {
		if !known[k] {
			return fmt.Errorf("%s has no parameter %s", a.Name, k)
		}
	}
	return nil
}

func article(word string) string {
	if word != "" && strings.ContainsAny(word[:1], "AEIOU") {
		return "n"
	}
	return ""
}
