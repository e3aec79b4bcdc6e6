package client

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// The states a client reports of an artifact it runs.
const (
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateError      = "error"
	StateStopped    = "stopped" // left the table; reported once
)

// keptMessages is how many messages each artifact keeps until the server
// has them (the server keeps as many); beyond that the oldest go, and the
// next report says how many.
const keptMessages = 100

// runner starts and stops the table's artifacts on the client.
type runner struct {
	c *Client

	mu      sync.Mutex
	running map[string]*job // by artifact name
	table   map[string]bool // the artifacts of the table applied last
	ended   []*job          // stopped, not yet reported as such
	version string
	change  chan struct{}
	wg      sync.WaitGroup
}

// job is one artifact of the table, running.
type job struct {
	name   string
	key    string // definitions and parameters: a change restarts the job
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	state    string
	err      string
	since    time.Time
	messages []string // the last keptMessages
	noted    uint64   // messages noted since the job started
	reported uint64   // of those, how many the server has
}

func newRunner(c *Client) *runner {
	return &runner{c: c, running: map[string]*job{}, change: make(chan struct{})}
}

// changed is closed at the next change of a job's state.
func (r *runner) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.change
}

func (r *runner) signal() {
	r.mu.Lock()
	close(r.change)
	r.change = make(chan struct{})
	r.mu.Unlock()
}

// apply makes the running artifacts those of t: new ones start, removed
// ones stop, changed ones (definition or parameters) restart.
func (r *runner) apply(ctx context.Context, t clientapi.Table) {
	want := map[string]clientapi.Artifact{}
	for _, a := range t.Artifacts {
		want[a.Name] = a
	}
	r.mu.Lock()
	var stop []*job
	for name, j := range r.running {
		if a, ok := want[name]; !ok || jobKey(a) != j.key {
			stop = append(stop, j)
			delete(r.running, name)
		}
	}
	r.version = t.Version
	r.table = map[string]bool{}
	for n := range want {
		r.table[n] = true
	}
	r.mu.Unlock()
	for _, j := range stop {
		j.cancel()
		<-j.done
		r.c.logf("%s: stopped", j.name)
		j.set(StateStopped, "")
		r.mu.Lock()
		r.ended = append(r.ended, j)
		r.mu.Unlock()
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		a := want[name]
		r.mu.Lock()
		_, ok := r.running[name]
		r.mu.Unlock()
		if ok {
			continue
		}
		r.start(ctx, a)
	}
	r.signal()
}

// inTable reports whether a queue (Artifact or Artifact/Source) is of an
// artifact of the table applied last.
func (r *runner) inTable(queue string) bool {
	name, _, _ := strings.Cut(queue, "/")
	r.mu.Lock()
	defer r.mu.Unlock()
	// Before any table is known, nothing is judged out of it.
	return r.table == nil || r.table[name]
}

func jobKey(a clientapi.Artifact) string {
	return strings.Join(a.Definitions, "\x00") + "\x00" + string(a.Parameters)
}

// start loads an artifact's definitions into the client's repository and
// runs each of its sources.
func (r *runner) start(ctx context.Context, a clientapi.Artifact) {
	jctx, cancel := context.WithCancel(ctx)
	j := &job{name: a.Name, key: jobKey(a), cancel: cancel, done: make(chan struct{}), since: time.Now()}
	r.mu.Lock()
	r.running[a.Name] = j
	r.mu.Unlock()
	def, params, err := r.load(ctx, a)
	if err != nil {
		j.set(StateError, err.Error())
		r.c.logf("%s: %v", a.Name, err)
		close(j.done)
		return
	}
	var sources sync.WaitGroup
	for _, src := range def.Sources {
		queue := def.Name
		if src.Name != "" {
			queue += "/" + src.Name
		}
		sources.Add(1)
		go func() {
			defer sources.Done()
			r.loop(jctx, j, def, src, params, queue)
		}()
	}
	j.set(StateRunning, "")
	r.c.logf("%s: started", a.Name)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		sources.Wait()
		close(j.done)
	}()
}

// load sets the definitions in the client's own repository (the
// artifact's, then those it calls) and checks the artifact is a
// CLIENT_EVENT one.
func (r *runner) load(ctx context.Context, a clientapi.Artifact) (*artifacts.Artifact, *ordereddict.Dict, error) {
	m := r.c.opts.Manager
	for _, text := range a.Definitions {
		if _, err := m.SetArtifact(ctx, queues.DefaultOrg, text, "client"); err != nil {
			return nil, nil, fmt.Errorf("loading its definition: %w", err)
		}
	}
	def, ok := m.Repository().Get(queues.DefaultOrg, a.Name)
	if !ok {
		return nil, nil, fmt.Errorf("the table names %s but brings no definition of it", a.Name)
	}
	if def.Type != artifacts.TypeClientEvent {
		return nil, nil, fmt.Errorf("%s is a %s artifact; a client runs CLIENT_EVENT artifacts", a.Name, def.Type)
	}
	params := ordereddict.NewDict()
	if len(a.Parameters) > 0 && string(a.Parameters) != "null" {
		v, err := value.DecodeJSON(a.Parameters)
		d, ok := v.(*ordereddict.Dict)
		if err != nil || !ok {
			return nil, nil, fmt.Errorf("parameters are not an object")
		}
		params = d
	}
	return def, params, nil
}

// loop runs a source until ctx ends, restarting its query with backoff.
func (r *runner) loop(ctx context.Context, j *job, a *artifacts.Artifact, src artifacts.Source, params *ordereddict.Dict, queue string) {
	retry := backoff{min: time.Second, max: time.Minute}
	for {
		began := time.Now()
		err := r.runOnce(ctx, j, a, src, params, queue)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			retry.reset()
		}
		d := retry.next()
		msg := "query ended"
		if err != "" {
			msg = "query ended with an error: " + err
		}
		j.note(fmt.Sprintf("%s: %s; restarting in %v", queue, msg, d))
		j.set(StateRestarting, err)
		r.signal()
		if !sleep(ctx, d) {
			return
		}
		j.set(StateRunning, "")
		r.signal()
	}
}

// runOnce runs the source's query once; its rows go to the buffer. It
// returns the last error the query logged.
func (r *runner) runOnce(ctx context.Context, j *job, a *artifacts.Artifact, src artifacts.Source, params *ordereddict.Dict, queue string) string {
	var lastErr string
	var errMu sync.Mutex
	id := vql.Identity{Org: queues.DefaultOrg, Principal: "client", Role: "client", All: true, Denied: r.c.opts.Deny}
	sess := r.c.opts.Engine.NewSession(vql.SessionOptions{Identity: id, OnLog: func(m vql.Message) {
		j.note(m.Text)
		if m.Level == vql.LevelError {
			errMu.Lock()
			lastErr = m.Text
			errMu.Unlock()
			r.signal() // errors are reported at once, not with the next minute's report
		}
	}})
	defer sess.Close()
	for row := range plugins.RunSource(ctx, sess.Scope(), a, src, params) {
		d, ok := row.(*ordereddict.Dict)
		if !ok {
			continue
		}
		b, err := value.EncodeJSON(d)
		if err != nil {
			j.note(fmt.Sprintf("%s: a row cannot be encoded: %v", queue, err))
			continue
		}
		if r.c.buf.stats().PendingBytes+int64(len(b)) > r.c.buf.max {
			j.note(fmt.Sprintf("%s: paused: the buffer is full (%d bytes; --max-buffer); the source waits for the server", queue, r.c.buf.max))
			r.c.logf("%s: paused: the buffer is full (%d bytes); waiting for the server to take rows", queue, r.c.buf.max)
		}
		if err := r.c.buf.put(ctx, queue, b); err != nil {
			if ctx.Err() == nil {
				errMu.Lock()
				lastErr = "buffer: " + err.Error()
				errMu.Unlock()
				j.note(lastErr)
			}
			break
		}
	}
	errMu.Lock()
	defer errMu.Unlock()
	return lastErr
}

// stopAll stops every job and waits for them.
func (r *runner) stopAll() {
	r.mu.Lock()
	for _, j := range r.running {
		j.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (j *job) set(state, err string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != state {
		j.since = time.Now()
	}
	j.state, j.err = state, err
}

func (j *job) note(text string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.messages = append(j.messages, time.Now().UTC().Format(time.RFC3339)+" "+text)
	j.noted++
	if len(j.messages) > keptMessages {
		j.messages = j.messages[len(j.messages)-keptMessages:]
	}
}

// statuses is what the client reports of its jobs, by name: each job's
// state and the messages the server does not have yet (the server keeps
// the log, so a message sent twice would be listed twice). Call sent once
// the server has taken the report.
func (r *runner) statuses() (st []clientapi.Status, sent func()) {
	r.mu.Lock()
	jobs := make([]*job, 0, len(r.running)+len(r.ended))
	for _, j := range r.running {
		jobs = append(jobs, j)
	}
	ended := len(r.ended)
	for _, j := range r.ended {
		if _, again := r.running[j.name]; !again { // restarted: its new job speaks for it
			jobs = append(jobs, j)
		}
	}
	r.mu.Unlock()
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].name < jobs[b].name })
	out := make([]clientapi.Status, 0, len(jobs))
	upto := make([]uint64, len(jobs))
	for i, j := range jobs {
		j.mu.Lock()
		unsent := j.noted - j.reported
		kept := min(unsent, uint64(len(j.messages)))
		var msgs []string
		if lost := unsent - kept; lost > 0 {
			msgs = append(msgs, fmt.Sprintf("%s (%d earlier messages were not reported: more than %d between two reports)",
				time.Now().UTC().Format(time.RFC3339), lost, keptMessages))
		}
		msgs = append(msgs, j.messages[len(j.messages)-int(kept):]...)
		out = append(out, clientapi.Status{Artifact: j.name, State: j.state, Error: j.err, Time: j.since.UTC(), Messages: msgs})
		upto[i] = j.noted
		j.mu.Unlock()
	}
	return out, func() {
		r.mu.Lock()
		r.ended = r.ended[ended:]
		r.mu.Unlock()
		for i, j := range jobs {
			j.mu.Lock()
			j.reported = max(j.reported, upto[i])
			j.mu.Unlock()
		}
	}
}
