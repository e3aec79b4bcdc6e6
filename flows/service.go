package flows

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
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// DefaultTimeout is how long a server flow may run when the request sets
// no timeout: Velociraptor's ten minutes.
const DefaultTimeout = 10 * time.Minute

// Service keeps the flows and hunts of every org of one manager, for one
// engine.
type Service struct {
	provider queues.Provider
	clients  Clients
	wg       sync.WaitGroup // this service's server flows
	now      func() time.Time
}

// recordsMu serialises changes of flow and hunt records in the process,
// whichever engine makes them; it guards running too.
var recordsMu sync.Mutex

// running are the server flows running in this process, by runKey. A data
// folder is open in one process at a time (the store locks it), so a
// server flow recorded RUNNING that is not here was cut short by a
// process that stopped.
var running = map[string]*runningFlow{}

// runningFlow is a server flow running in this process.
type runningFlow struct {
	cancel   context.CancelFunc
	cancelBy string
}

// StoppedStatus is the status of a server flow found RUNNING that no
// process runs: the process that ran it stopped first.
const StoppedStatus = "the server stopped while the flow ran"

// New returns the service over the manager the provider gives; clients
// nil knows only the server (every client id is then unknown).
func New(provider queues.Provider, clients Clients) *Service {
	if clients == nil {
		clients = serverOnly{}
	}
	return &Service{provider: provider, clients: clients, now: time.Now}
}

// Wait returns when the server flows running now have ended.
func (s *Service) Wait() { s.wg.Wait() }

func runKey(org, client, flow string) string { return org + "|" + client + "|" + flow }

func micros(t time.Time) int64 { return t.UnixMicro() }

// request is a collection as collect_client() and hunts ask for it.
type request struct {
	org       string
	client    string
	creator   string
	artifacts []string
	// params are each artifact's parameters, by artifact name.
	params  map[string]*ordereddict.Dict
	timeout uint64 // seconds
	maxRows uint64
	maxByte uint64
	urgent  bool
	huntID  string
}

// resolve finds the artifacts of a request in the repository: each must
// be known and of the kind its target runs (SERVER on the server, CLIENT
// on a client).
func resolve(m *queues.Manager, org, client string, names []string) ([]*artifacts.Artifact, error) {
	if len(names) == 0 {
		return nil, errors.New("no artifacts to collect")
	}
	out := make([]*artifacts.Artifact, 0, len(names))
	for _, name := range names {
		a, ok := m.Repository().Get(org, name)
		if !ok {
			return nil, fmt.Errorf("artifact %s not known%s", name, m.Repository().Missing(org, name))
		}
		want := artifacts.TypeClient
		if client == ServerID {
			want = artifacts.TypeServer
		}
		if a.Type != want {
			where := "a client"
			if client == ServerID {
				where = "the server"
			}
			return nil, fmt.Errorf("artifact %s is a %s artifact; %s collects %s artifacts", name, a.Type, where, want)
		}
		out = append(out, a)
	}
	return out, nil
}

// buildRequest is the recorded form of a request.
func buildRequest(r request) Request {
	req := Request{ClientID: r.client, Creator: r.creator, Artifacts: r.artifacts, Specs: []Spec{},
		Parameters: Parameters{Env: []EnvVar{}}, Timeout: r.timeout, MaxRows: r.maxRows, MaxBytes: r.maxByte, Urgent: r.urgent}
	for _, name := range r.artifacts {
		spec := Spec{Artifact: name, Parameters: Parameters{Env: []EnvVar{}}}
		if p := r.params[name]; p != nil {
			for _, item := range p.Items() {
				env := EnvVar{Key: item.Key, Value: paramText(item.Value)}
				spec.Parameters.Env = append(spec.Parameters.Env, env)
				req.Parameters.Env = append(req.Parameters.Env, env)
			}
		}
		req.Specs = append(req.Specs, spec)
	}
	return req
}

// paramText is a parameter as a request carries it: text, or JSON for
// anything else.
func paramText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	b, err := value.EncodeJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// startFlow records a new flow and, on the server, runs it in the
// background in a session of scope's engine and identity.
func (s *Service) startFlow(scope *vql.Scope, m *queues.Manager, r request) (*Flow, error) {
	if err := checkID("client_id", r.client); err != nil {
		return nil, err
	}
	if r.client != ServerID {
		ok, err := s.clients.Exists(r.org, r.client)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("client %s is not known in org %s", r.client, r.org)
		}
	}
	arts, err := resolve(m, r.org, r.client, r.artifacts)
	if err != nil {
		return nil, err
	}
	for _, a := range arts {
		if !plugins.MayRun(scope, "collect_client(artifacts="+a.Name+")", a) {
			return nil, fmt.Errorf("artifact %s needs %s", a.Name, strings.Join(a.RequiredPermissions, ", "))
		}
	}
	var store FileStore
	if r.client == ServerID {
		if store, err = fileStoreOf(scope); err != nil {
			return nil, err
		}
	}
	now := s.now()
	f := &Flow{ClientID: r.client, SessionID: newID("F."), HuntID: r.huntID, Request: buildRequest(r),
		CreateTime: micros(now), State: StateWaiting, ArtifactsWithResults: []string{}}
	if r.client == ServerID {
		f.State, f.StartTime, f.ActiveTime = StateRunning, micros(now), micros(now)
	}
	if r.client != ServerID {
		return f, s.save(m, r.org, f)
	}
	// Registered before it is recorded RUNNING, so that no reader takes
	// it for one a stopped process left.
	timeout := DefaultTimeout
	if r.timeout > 0 {
		timeout = time.Duration(r.timeout) * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	key := runKey(r.org, f.ClientID, f.SessionID)
	run := &runningFlow{cancel: cancel}
	recordsMu.Lock()
	running[key] = run
	err = s.save(m, r.org, f)
	if err != nil {
		delete(running, key)
	}
	recordsMu.Unlock()
	if err != nil {
		cancel()
		return nil, err
	}
	s.runServer(ctx, run, timeout, scope, m, store, r, f, arts)
	return f, nil
}

func (s *Service) save(m *queues.Manager, org string, f *Flow) error {
	return putJSON(m.Storage(), flowKey(org, f.ClientID, f.SessionID), f)
}

// Flow reads a flow's record.
func (s *Service) Flow(m *queues.Manager, org, client, flow string) (*Flow, error) {
	if err := checkID("client_id", client); err != nil {
		return nil, err
	}
	if err := checkID("flow_id", flow); err != nil {
		return nil, err
	}
	var f Flow
	if err := getJSON(m.Storage(), flowKey(org, client, flow), &f); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("flow %s of client %s is not known in org %s", flow, client, org)
		}
		return nil, err
	}
	s.settle(m, org, &f)
	return &f, nil
}

// settle records as ERROR a server flow recorded RUNNING that no process
// runs (see running).
func (s *Service) settle(m *queues.Manager, org string, f *Flow) {
	if f.ClientID != ServerID || f.State != StateRunning {
		return
	}
	recordsMu.Lock()
	defer recordsMu.Unlock()
	if _, ok := running[runKey(org, f.ClientID, f.SessionID)]; ok {
		return
	}
	var now Flow
	if getJSON(m.Storage(), flowKey(org, f.ClientID, f.SessionID), &now) == nil && now.State != StateRunning {
		*f = now // it ended meanwhile
		return
	}
	f.State, f.Status = StateError, StoppedStatus
	_ = s.save(m, org, f)
}

// Flows lists a client's flows, newest first.
func (s *Service) Flows(m *queues.Manager, org, client string) ([]*Flow, error) {
	if err := checkID("client_id", client); err != nil {
		return nil, err
	}
	var out []*Flow
	err := m.Storage().Scan(flowPrefix+org+"/"+client+"/", func(_ string, v []byte) error {
		var f Flow
		if err := jsonUnmarshal(v, &f); err == nil {
			out = append(out, &f)
		}
		return nil
	})
	for _, f := range out {
		s.settle(m, org, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreateTime > out[j].CreateTime })
	return out, err
}

// runServer runs a server flow's artifacts, source after source, in a
// session of its own that acts for the caller, and stores each source's
// rows in the file store; the record follows its state, and
// System.Flow.Completion is sent when it ends.
func (s *Service) runServer(ctx context.Context, run *runningFlow, timeout time.Duration, scope *vql.Scope, m *queues.Manager, store FileStore, r request, f *Flow, arts []*artifacts.Artifact) {
	key := runKey(r.org, f.ClientID, f.SessionID)
	id := scope.Identity()
	engine, uploadDir := scope.Engine(), scope.UploadDir()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer run.cancel()
		var mu sync.Mutex
		var firstError string
		logs, logErr := store.create(r.org, logsPath(f.ClientID, f.SessionID))
		sess := engine.NewSession(vql.SessionOptions{Identity: id, UploadDir: uploadDir, OnLog: func(msg vql.Message) {
			mu.Lock()
			defer mu.Unlock()
			if msg.Level == vql.LevelError && firstError == "" {
				firstError = msg.Text
			}
			if logs != nil {
				_ = logs.write(ordereddict.NewDict().Set("client_time", msg.Time.Unix()).
					Set("level", msg.Level).Set("message", msg.Text))
			}
		}})
		start := s.now()
		total, withResults, failure := s.runSources(ctx, sess.Scope(), store, r, f, arts)
		sess.Close()
		mu.Lock()
		if logs != nil {
			f.TotalLogs = logs.rows
			_ = logs.close()
		} else if failure == "" && logErr != nil {
			failure = logErr.Error()
		}
		if failure == "" {
			failure = firstError
		}
		mu.Unlock()
		recordsMu.Lock()
		cancelBy := run.cancelBy
		recordsMu.Unlock()
		end := s.now()
		f.TotalCollectedRows, f.ArtifactsWithResults = total, withResults
		f.ActiveTime, f.ExecutionDuration = micros(end), end.Sub(start).Nanoseconds()
		f.State, f.Status = StateFinished, ""
		switch {
		case cancelBy != "":
			f.State, f.Status = StateError, "Cancelled by "+cancelBy
		case ctx.Err() == context.DeadlineExceeded:
			f.State, f.Status = StateError, fmt.Sprintf("timed out after %v", timeout)
		case failure != "":
			f.State, f.Status = StateError, failure
		}
		recordsMu.Lock()
		// A flow deleted while it ran stays deleted.
		if _, found, err := m.Storage().Get(flowKey(r.org, f.ClientID, f.SessionID)); err == nil && found {
			_ = s.save(m, r.org, f)
		}
		delete(running, key)
		recordsMu.Unlock()
		_, _ = m.Send(context.Background(), r.org, queues.FlowCompletionQueue, ordereddict.NewDict().
			Set("Timestamp", end.Unix()).Set("Flow", toDict(f)).Set("FlowId", f.SessionID).Set("ClientId", f.ClientID),
			queues.Sender{Principal: ServerID, Internal: true})
	}()
}

// runSources runs each source of each artifact and writes its rows; it
// returns the rows written, the sources that had rows, and why it
// stopped early ("" when it did not).
func (s *Service) runSources(ctx context.Context, scope *vql.Scope, store FileStore, r request, f *Flow, arts []*artifacts.Artifact) (int64, []string, string) {
	var total int64
	withResults := []string{}
	for _, a := range arts {
		for _, src := range a.Sources {
			name := a.Name
			if src.Name != "" {
				name += "/" + src.Name
			}
			var w *resultWriter
			for row := range plugins.RunSource(ctx, scope, a, src, r.params[a.Name]) {
				if w == nil {
					var err error
					if w, err = store.create(r.org, resultPath(f.ClientID, f.SessionID, name)); err != nil {
						return total, withResults, err.Error()
					}
					withResults = append(withResults, name)
				}
				if err := w.write(row); err != nil {
					_ = w.close()
					return total, withResults, err.Error()
				}
				total++
				if r.maxRows > 0 && uint64(total) >= r.maxRows {
					_ = w.close()
					return total, withResults, fmt.Sprintf("max_rows reached: stopped after %d rows", total)
				}
			}
			if w != nil {
				if err := w.close(); err != nil {
					return total, withResults, err.Error()
				}
			}
			if ctx.Err() != nil {
				return total, withResults, ""
			}
		}
	}
	return total, withResults, ""
}

// Cancel stops a flow: a server flow running here is cancelled (its
// record says who cancelled it once it has stopped), a client flow not
// yet finished is marked cancelled. It reports whether anything was
// stopped.
func (s *Service) Cancel(m *queues.Manager, org, client, flow, principal string) (bool, error) {
	f, err := s.Flow(m, org, client, flow)
	if err != nil {
		return false, err
	}
	recordsMu.Lock()
	defer recordsMu.Unlock()
	if run, ok := running[runKey(org, client, flow)]; ok {
		if run.cancelBy == "" {
			run.cancelBy = principal
		}
		run.cancel()
		return true, nil
	}
	if f.State == StateFinished || f.State == StateError {
		return false, nil
	}
	f.State, f.Status, f.ActiveTime = StateError, "Cancelled by "+principal, micros(s.now())
	return true, s.save(m, org, f)
}

// DeleteFlow removes a flow: its record, its hunt's mention of it and
// its files. With really false it only lists what would go. Each row is
// {Type, Data: {VFSPath}, Error}, as Velociraptor's delete_flow reports.
func (s *Service) DeleteFlow(m *queues.Manager, store FileStore, hasStore bool, org, client, flow string, really bool) ([]*ordereddict.Dict, error) {
	f, err := s.Flow(m, org, client, flow)
	if err != nil {
		return nil, err
	}
	var rows []*ordereddict.Dict
	row := func(typ, path string, err error) {
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		rows = append(rows, ordereddict.NewDict().Set("Type", typ).
			Set("Data", ordereddict.NewDict().Set("VFSPath", path)).Set("Error", msg))
	}
	if hasStore {
		files, err := store.files(org, flowPath(client, flow))
		if err != nil {
			return nil, err
		}
		for _, p := range files {
			typ := "Result"
			if strings.HasSuffix(p, "/logs.jsonl") {
				typ = "Log"
			}
			row(typ, p, nil)
		}
	}
	key := flowKey(org, client, flow)
	if !really {
		row("CollectionContext", key, nil)
		return rows, nil
	}
	recordsMu.Lock()
	if run, ok := running[runKey(org, client, flow)]; ok {
		run.cancel()
	}
	err = m.Storage().Delete(key)
	if err == nil && f.HuntID != "" {
		var id string
		if getJSON(m.Storage(), huntFlowKey(org, f.HuntID, client), &id) == nil && id == flow {
			err = m.Storage().Delete(huntFlowKey(org, f.HuntID, client))
		}
	}
	recordsMu.Unlock()
	row("CollectionContext", key, err)
	if err != nil {
		return rows, nil
	}
	if hasStore {
		if err := store.removeAll(org, flowPath(client, flow)); err != nil {
			rows[len(rows)-1].Set("Error", err.Error())
		}
	}
	return rows, nil
}
