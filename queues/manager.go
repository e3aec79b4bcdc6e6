// Package queues runs the event queues: a Manager per data folder sends,
// stores and delivers the events of every event artifact of every org.
// Disk-backed queues (SERVER_EVENT, CLIENT_EVENT) live in a BadgerStore,
// INTERNAL queues in a MemoryStore; both sit behind the Store interface and
// pass the same suite (queues/storetest).
package queues

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vqlq/vqlq/artifacts"
)

// DefaultOrg is the org used when none is named.
const DefaultOrg = "root"

// Options configure a Manager.
type Options struct {
	// Disk holds SERVER_EVENT and CLIENT_EVENT queues; it also stores
	// run-time artifact definitions and alert windows if it implements
	// artifacts.Storage.
	Disk Store
	// Memory holds INTERNAL queues (default: a MemoryStore of 10,000 events
	// and 16 MB per queue).
	Memory Store
	// Definitions is a folder of extra artifact YAML files.
	Definitions string
	// Check judges the VQL of artifacts as the definitions folder is
	// loaded and as artifacts are set (see artifacts.Checker); nil checks
	// nothing. The engine provides it: plugins.ArtifactChecker.
	Check artifacts.Checker
	// Retention is how long disk-backed events are kept (default 30 days).
	Retention time.Duration
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Manager owns the queues of one data folder.
type Manager struct {
	disk, mem Store
	repo      *artifacts.Repository
	kv        artifacts.Storage
	retention time.Duration
	now       func() time.Time

	artifactMu sync.Mutex // serialises artifact_set / artifact_delete
	consumerMu sync.Mutex // serialises claims of named consumers
	metaMu     sync.Mutex // serialises changes of server metadata
	ackMu      sync.Mutex // serialises client acknowledgements; guards lastAck
	lastAck    map[string]time.Time
	forwarders sync.Map // consumer record key -> *ForwardStats of the forwarder reading it

	fanout gate // turns of the watchers at reading and decoding

	mu     sync.Mutex
	states map[string]*queueState // by org|queue
	orgs   map[string]bool        // orgs recorded in the store

	alertMu sync.Mutex
	stop    chan struct{}
	stopped sync.WaitGroup
}

// queueState is what the manager knows of one queue beyond its events.
type queueState struct {
	org, name string
	sent      atomic.Int64
	delivered atomic.Int64 // rows handed to watchers
	dropped   atomic.Int64
	lastEvent atomic.Int64 // unix nanos
	watchers  sync.Map     // *watcher -> struct{}
	hub       hub          // wakes the idle watchers after an append
	closed    chan struct{}
}

// OrgRule is the alphabet of org ids, as refusals quote it.
const OrgRule = "an org id is 1 to 64 letters, digits, '_' or '-'"

var orgPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ErrInvalidOrg is returned for an org id outside OrgRule, wherever it
// enters: a flag, a URL, a token, a VQL argument.
var ErrInvalidOrg = errors.New(OrgRule)

// CheckOrg validates an org id.
func CheckOrg(org string) error {
	if !orgPattern.MatchString(org) {
		shown := org
		if len(shown) > 70 {
			shown = shown[:64] + "…"
		}
		return fmt.Errorf("invalid org id %q: %w", shown, ErrInvalidOrg)
	}
	return nil
}

// New starts a manager over the given stores.
func New(opts Options) (*Manager, error) {
	if opts.Disk == nil {
		return nil, fmt.Errorf("queues: no disk store")
	}
	if opts.Memory == nil {
		opts.Memory = NewMemoryStoreWith(MemoryOptions{})
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	kv, _ := opts.Disk.(artifacts.Storage)
	if kv == nil {
		kv = artifacts.NewMemoryStorage()
	}
	m := &Manager{
		disk: opts.Disk, mem: opts.Memory, kv: kv,
		repo:      artifacts.NewRepository(kv),
		retention: opts.Retention, now: opts.Now,
		states: map[string]*queueState{}, orgs: map[string]bool{}, stop: make(chan struct{}), fanout: newGate(),
	}
	m.repo.SetChecker(opts.Check)
	if opts.Definitions != "" {
		// The artifacts it leaves out are remembered by the
		// repository (NotLoaded, Missing); the command that checked
		// the flags has shown them.
		if _, err := m.repo.LoadDir(opts.Definitions); err != nil {
			return nil, err
		}
	}
	_ = kv.Scan(orgKey, func(k string, _ []byte) error {
		m.orgs[strings.TrimPrefix(k, orgKey)] = true
		return nil
	})
	m.stopped.Add(1)
	go m.retainLoop()
	return m, nil
}

// Close stops background work and closes the stores.
func (m *Manager) Close() error {
	close(m.stop)
	m.stopped.Wait()
	err := m.disk.Close()
	if merr := m.mem.Close(); err == nil {
		err = merr
	}
	return err
}

// Repository is the artifact repository the manager serves.
func (m *Manager) Repository() *artifacts.Repository { return m.repo }

// Storage is the manager's key-value store: the data folder's own, or
// memory when the store keeps none. The services beside the queues (the
// fleet's clients, flows and hunts) keep their records in it, so that
// they live and move with the data folder.
func (m *Manager) Storage() artifacts.Storage { return m.kv }

// storeKey names a queue inside a store: queues of different orgs never
// share a key.
func storeKey(org, queue string) string { return org + "|" + queue }

// orgKey records, in the store, every org that has used a queue, so that
// retention reaches all of them after a restart.
const orgKey = "orgs/"

// recordOrg remembers, in the store, an org that stores events: only a
// send does this, so that reading or listing never creates an org.
func (m *Manager) recordOrg(org string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.orgs[org] {
		m.orgs[org] = true
		_ = m.kv.Put(orgKey+org, []byte{1})
	}
}

// Orgs lists the orgs that have stored events or have run-time artifacts
// (the default org always). The store is read once, at start; later orgs
// are recorded as they appear.
func (m *Manager) Orgs() []string {
	set := map[string]bool{DefaultOrg: true}
	m.mu.Lock()
	for o := range m.orgs {
		set[o] = true
	}
	m.mu.Unlock()
	for _, o := range m.repo.Orgs() {
		set[o] = true
	}
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

func (m *Manager) state(org, queue string) *queueState {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := storeKey(org, queue)
	st, ok := m.states[k]
	if !ok {
		st = &queueState{org: org, name: queue, closed: make(chan struct{})}
		m.states[k] = st
	}
	return st
}

// ErrUnknownQueue is what every operation on a queue that names no
// artifact of the org returns (errors.Is); the message names the queue
// and, when it can, the artifact meant or why a folder artifact of that
// name is not loaded.
var ErrUnknownQueue = errors.New("unknown queue")

type unknownQueue struct{ msg string }

func (e *unknownQueue) Error() string        { return e.msg }
func (e *unknownQueue) Is(target error) bool { return target == ErrUnknownQueue }

// resolve finds the artifact behind a queue name (`Artifact` or
// `Artifact/Source`).
func (m *Manager) resolve(org, queue, caller string) (*artifacts.Artifact, error) {
	if err := CheckOrg(org); err != nil {
		return nil, fmt.Errorf("%s: %w", caller, err)
	}
	name, sourceName, hasSource := strings.Cut(queue, "/")
	a, ok := m.repo.Get(org, name)
	if !ok {
		return nil, &unknownQueue{fmt.Sprintf("%s: artifact %s not known%s", caller, queue, m.repo.Missing(org, name))}
	}
	if hasSource {
		found := false
		for _, s := range a.Sources {
			found = found || s.Name == sourceName
		}
		if !found || !a.IsEvent() {
			return nil, &unknownQueue{fmt.Sprintf("%s: artifact %s not known", caller, queue)}
		}
	}
	return a, nil
}

func (m *Manager) storeFor(a *artifacts.Artifact) Store {
	if a.Persisted() {
		return m.disk
	}
	return m.mem
}

// QueueInfo is one row of queues().
type QueueInfo struct {
	Name      string
	Type      string
	Persisted bool
	Watchers  int
	Events    int64 // sent since start
	Delivered int64 // rows handed to watchers since start
	Stored    int64 // held by the store now
	Dropped   int64
	LastEvent time.Time // zero when none
	// WatcherList describes each watcher, sorted by description.
	WatcherList []WatcherInfo
}

// WatcherInfo is one running watcher of a queue.
type WatcherInfo struct {
	// Describe is the watcher's query (or its consumer name).
	Describe string
	// Next is the position of the next event it will read.
	Next uint64
	// Backlog is how many events it has still to read.
	Backlog int64
	Since   time.Time
}

// Queues lists the queues of an org: every event artifact, and every named
// source of one, in name order.
func (m *Manager) Queues(org string) []QueueInfo {
	var out []QueueInfo
	for _, a := range m.repo.List(org) {
		for _, q := range a.QueueNames() {
			st := m.state(org, q)
			first, last, _ := m.storeFor(a).Bounds(storeKey(org, q))
			info := QueueInfo{
				Name: q, Type: strings.ToLower(string(a.Type)), Persisted: a.Persisted(),
				Events: st.sent.Load(), Delivered: st.delivered.Load(), Stored: int64(last + 1 - first), Dropped: st.dropped.Load(),
			}
			if ns := st.lastEvent.Load(); ns > 0 {
				info.LastEvent = time.Unix(0, ns).UTC()
			}
			st.watchers.Range(func(k, _ any) bool {
				w := k.(*watcher)
				next := w.next.Load()
				backlog := int64(last) + 1 - int64(next)
				info.Watchers++
				info.WatcherList = append(info.WatcherList, WatcherInfo{Describe: w.describe, Next: next, Backlog: max(0, backlog), Since: w.since})
				return true
			})
			sort.Slice(info.WatcherList, func(i, j int) bool { return info.WatcherList[i].Describe < info.WatcherList[j].Describe })
			out = append(out, info)
		}
	}
	return out
}

// closeQueues ends the watchers of an artifact's queues (it was deleted or
// replaced by a definition without them).
func (m *Manager) closeQueues(org string, names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range names {
		k := storeKey(org, q)
		if st, ok := m.states[k]; ok {
			close(st.closed)
			delete(m.states, k)
		}
	}
}

// ArtifactVar is the scope variable holding the name of the artifact whose
// source is running (alert() reports it).
const ArtifactVar = "ArtifactName"

// Provider hands out the manager, opening the store on first use: a query
// that never touches a queue never opens the data folder.
type Provider func() (*Manager, error)
