package monitoring

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// serverSender is who the rows of monitoring queries come from.
var serverSender = queues.Sender{Principal: "server", Internal: true}

// entry is one artifact of an org's table and the state of its queries.
// Its fields are guarded by Service.mu, except op, logs and the fixed
// org/artifact.
type entry struct {
	org, artifact string

	// op serialises starting and stopping the entry's queries.
	op sync.Mutex

	params    *ordereddict.Dict
	run       *run // nil when nothing runs
	restarts  int
	lastError string
	state     string
	since     time.Time
	timer     *time.Timer // pending restart after an artifact change
	removed   bool

	logs *ring
}

// run is one start of an entry: a goroutine per source.
type run struct {
	cancel  context.CancelFunc
	done    chan struct{} // closed when every source's goroutine ended
	waiting int           // sources waiting to restart
}

// runKey marks the context of a monitoring query, so that a query changing
// the table does not wait for itself to end.
type runKey struct{}

func (s *Service) newEntry(org, artifact string) *entry {
	return &entry{org: org, artifact: artifact, state: StateStopped, since: time.Now(), logs: newRing(s.opts.LogSize)}
}

// refresh recomputes the entry's state; s.mu is held.
func (e *entry) refresh() {
	state := StateStopped
	if e.run != nil {
		state = StateRunning
		if e.run.waiting > 0 {
			state = StateRestarting
		}
	}
	if state != e.state {
		e.state, e.since = state, time.Now()
	}
}

// startRun starts the entry's queries unless they run already, the service
// is stopped or the entry was removed. e.op is held.
func (s *Service) startRun(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running || e.removed || e.run != nil {
		return
	}
	a, err := s.check(e.org, e.artifact)
	if err != nil {
		e.lastError = err.Error()
		e.note(vql.LevelError, "%v: not running", err)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r := &run{cancel: cancel, done: make(chan struct{})}
	ctx = context.WithValue(ctx, runKey{}, r)
	e.run = r
	e.lastError = ""
	e.refresh()
	params := e.params
	queueNames := make([]string, len(a.Sources))
	for i, src := range a.Sources {
		queueNames[i] = a.Name
		if src.Name != "" {
			queueNames[i] += "/" + src.Name
		}
	}
	e.note(vql.LevelInfo, "started: rows go to %s", strings.Join(queueNames, ", "))
	var sources sync.WaitGroup
	for i, src := range a.Sources {
		queue := queueNames[i]
		label := ""
		if len(a.Sources) > 1 {
			label = queue + ": "
		}
		sources.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer sources.Done()
			s.loop(ctx, e, r, a, src, params, queue, label)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sources.Wait()
		close(r.done)
	}()
}

// stopRun cancels the entry's queries and waits for them to end. It
// reports whether anything was running. e.op is held.
func (s *Service) stopRun(e *entry) bool {
	s.mu.Lock()
	r := e.run
	e.run = nil
	e.refresh()
	s.mu.Unlock()
	if r == nil {
		return false
	}
	r.cancel()
	<-r.done
	return true
}

// withEntry runs fn with e.op held. When ctx belongs to a monitoring query
// (one that changes the table: its own entry, or another whose query may
// be changing this one's), fn runs in the background instead, since
// stopping a query waits for it to end; it does not run at all if the
// service is stopping.
func (s *Service) withEntry(ctx context.Context, e *entry, fn func()) {
	if _, ok := ctx.Value(runKey{}).(*run); !ok {
		e.op.Lock()
		defer e.op.Unlock()
		fn()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		e.op.Lock()
		defer e.op.Unlock()
		fn()
	}()
}

// loop runs one source until ctx ends, restarting its query with backoff
// each time it ends.
func (s *Service) loop(ctx context.Context, e *entry, r *run, a *artifacts.Artifact, src artifacts.Source, params *ordereddict.Dict, queue, label string) {
	attempt := 0
	for {
		began := time.Now()
		failed, idle := s.runOnce(ctx, e, a, src, params, queue, label)
		if ctx.Err() != nil {
			return
		}
		if idle {
			e.note(vql.LevelInfo, "%sprecondition is false: source not run", label)
			return
		}
		if time.Since(began) >= s.opts.Healthy {
			attempt = 0
		}
		delay := s.backoff(attempt)
		attempt++
		what := "query ended"
		if failed {
			what = "query ended with an error"
		}
		e.note(vql.LevelWarn, "%s%s; restarting in %s", label, what, formatDelay(delay))
		s.mu.Lock()
		r.waiting++
		if e.run == r {
			e.refresh()
		}
		s.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		s.mu.Lock()
		r.waiting--
		if e.run == r {
			if ctx.Err() == nil {
				e.restarts++
			}
			e.refresh()
		}
		s.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}

// runOnce runs one source's query in a fresh session and sends its rows to
// the queue. failed says an error was logged; idle that the precondition
// was false.
func (s *Service) runOnce(ctx context.Context, e *entry, a *artifacts.Artifact, src artifacts.Source, params *ordereddict.Dict, queue, label string) (failed, idle bool) {
	var errored atomic.Bool
	logError := func(text string) {
		errored.Store(true)
		s.mu.Lock()
		e.lastError = text
		s.mu.Unlock()
	}
	// The query acts for the server in the artifact's org; only the
	// default org's monitoring sees the other orgs.
	id := vql.Identity{Org: e.org, Principal: serverSender.Principal, Role: "monitoring", All: true, AllOrgs: e.org == queues.DefaultOrg,
		Denied: s.opts.Deny}
	sess := s.engine().NewSession(vql.SessionOptions{Identity: id, UploadDir: s.opts.UploadDir, OnLog: func(m vql.Message) {
		m.Text = label + m.Text
		e.logs.add(m)
		if m.Level == vql.LevelError {
			logError(m.Text)
		}
	}})
	defer sess.Close() // its temporary files go when the query stops
	scope := sess.Scope()
	// The source's precondition, else the artifact's, is run here so
	// that a false one is told apart (the source is idle, not failed);
	// the body then runs without it.
	cond := src.Precondition
	if cond == "" {
		cond = a.Precondition
	}
	bare := *a
	bare.Precondition = ""
	a = &bare
	if cond != "" {
		ran := false
		for range plugins.RunSource(ctx, scope, a, artifacts.Source{Name: src.Name, Query: cond}, params) {
			ran = true
			break
		}
		if errored.Load() {
			return true, false
		}
		if !ran {
			return false, ctx.Err() == nil
		}
	}
	body := src
	body.Precondition = ""
	for row := range plugins.RunSource(ctx, scope, a, body, params) {
		d, ok := row.(*ordereddict.Dict)
		if !ok {
			continue
		}
		if _, err := s.m.Send(ctx, e.org, queue, d, serverSender); err != nil {
			if ctx.Err() != nil {
				break
			}
			text := fmt.Sprintf("%s%v", label, err)
			e.note(vql.LevelError, "%s", text)
			logError(text)
			break
		}
	}
	return errored.Load(), false
}

// backoff is the wait before restart number attempt+1.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.opts.BackoffBase
	for i := 0; i < attempt && d < s.opts.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.opts.BackoffMax)
}

// formatDelay writes whole seconds as "2s", "60s"; shorter waits as Go
// durations.
func formatDelay(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
	return d.String()
}

// watchLocked watches an org's artifact changes, once. s.mu is held and
// the service is running.
func (s *Service) watchLocked(org string) {
	if s.watched[org] {
		return
	}
	seq, err := s.m.Watch(s.ctx, org, queues.ArtifactModificationQueue, queues.WatchOptions{Describe: "server monitoring (artifact changes)"})
	if err != nil {
		for _, e := range s.tables[org] {
			e.note(vql.LevelError, "cannot watch artifact changes: %v", err)
		}
		return
	}
	s.watched[org] = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for row := range seq {
			if name, ok := row.GetString("artifact"); ok {
				s.changed(org, name)
			}
		}
	}()
}

// changed schedules the restart of the entry of an artifact that changed;
// further changes within the debounce delay push it back, so that several
// quick changes give one restart.
func (s *Service) changed(org, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	e, ok := s.tables[org][name]
	if !ok || e.removed {
		return
	}
	if e.timer == nil {
		e.timer = time.AfterFunc(s.opts.Debounce, func() { s.applyChange(e) })
		return
	}
	e.timer.Reset(s.opts.Debounce)
}

// applyChange restarts an entry after its artifact changed, or stops it if
// the artifact is gone or can no longer run.
func (s *Service) applyChange(e *entry) {
	e.op.Lock()
	defer e.op.Unlock()
	s.mu.Lock()
	if !s.running || e.removed {
		s.mu.Unlock()
		return
	}
	_, problem := s.check(e.org, e.artifact)
	if _, exists := s.m.Repository().Get(e.org, e.artifact); !exists {
		problem = fmt.Errorf("artifact %s was deleted", e.artifact)
	}
	wasRunning := e.run != nil
	s.mu.Unlock()
	if problem != nil {
		if wasRunning {
			s.stopRun(e)
			e.note(vql.LevelWarn, "%v: its query stopped", problem)
		} else {
			e.note(vql.LevelWarn, "%v: not running", problem)
		}
		s.mu.Lock()
		e.lastError = problem.Error()
		s.mu.Unlock()
		return
	}
	if wasRunning {
		e.note(vql.LevelInfo, "artifact %s changed: restarting its query", e.artifact)
		s.stopRun(e)
		s.mu.Lock()
		e.restarts++
		s.mu.Unlock()
	} else {
		e.note(vql.LevelInfo, "artifact %s changed: starting its query", e.artifact)
	}
	s.startRun(e)
}
