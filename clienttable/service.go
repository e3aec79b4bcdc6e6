package clienttable

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
)

// Entry is one row of an org's client event table.
type Entry struct {
	// Artifact is the CLIENT_EVENT artifact the clients run.
	Artifact string
	// Parameters are the values given to its parameters (nil: the
	// defaults).
	Parameters *ordereddict.Dict
	// Label narrows the entry to the clients with this label; "" is
	// every client.
	Label string
}

// Service is the client event table of every org of one queue manager.
// Use Of, so that every caller of a manager — the VQL functions, the
// client endpoint, vqlq serve — shares one, and a change is seen (and
// waited for, Changed) by all.
type Service struct {
	m  *queues.Manager
	kv artifacts.Storage

	mu      sync.Mutex
	tables  map[string]*table        // org -> its table, read on first use
	changed map[string]chan struct{} // org -> closed at its next change

	status *statusBook
}

// table is an org's table in memory.
type table struct {
	version int64 // counts the changes, as get_client_monitoring shows
	entries map[entryKey]*Entry
	// removed is when each artifact no longer in the table left it: see
	// RemovedGrace.
	removed map[string]time.Time
}

// hasArtifact reports whether an entry of any label names the artifact.
func (t *table) hasArtifact(name string) bool {
	for k := range t.entries {
		if k.artifact == name {
			return true
		}
	}
	return false
}

// RemovedGrace is how long after an artifact left the table the server
// still takes its rows from clients: the rows a client collected while the
// artifact was in its table (during an outage, say, or in the seconds the
// change takes to reach it) are delivered, not refused. After that a
// client's remaining rows of it are refused, and the client drops them,
// counted and logged.
const RemovedGrace = 24 * time.Hour

// RecentlyRemoved returns the artifacts that left an org's table (every
// label's entry) less than RemovedGrace ago.
func (s *Service) RecentlyRemoved(org string) ([]string, error) {
	if err := queues.CheckOrg(org); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableLocked(org)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, at := range t.removed {
		if time.Since(at) < RemovedGrace {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// entryKey identifies an entry: one artifact per label group.
type entryKey struct{ artifact, label string }

func keyOf(artifact, label string) entryKey {
	return entryKey{artifact: artifact, label: strings.ToLower(label)}
}

// normLabel is the label as the table keeps it: "all" is every client.
func normLabel(label string) string {
	label = strings.TrimSpace(label)
	if strings.EqualFold(label, "all") {
		return ""
	}
	return label
}

// New returns the table over the manager's store. Callers that share a
// manager should share its table: use Of.
func New(m *queues.Manager) *Service {
	return &Service{
		m: m, kv: m.Storage(),
		tables:  map[string]*table{},
		changed: map[string]chan struct{}{},
		status:  newStatusBook(DefaultMaxClients, DefaultMaxMessages),
	}
}

var services sync.Map // *queues.Manager -> *Service

// Of returns the table of a manager, the same one for every caller.
func Of(m *queues.Manager) *Service {
	if s, ok := services.Load(m); ok {
		return s.(*Service)
	}
	s, _ := services.LoadOrStore(m, New(m))
	return s.(*Service)
}

// Add puts an entry in an org's table, replacing the entry of the same
// artifact and label (its parameters change), and stores the table. The
// artifact must exist in the org, be a CLIENT_EVENT artifact with sources,
// and every parameter must be one it declares. The change is audited as
// the server's.
func (s *Service) Add(org string, e Entry) error {
	return s.AddBy(context.Background(), org, queues.ServerSender.Principal, e)
}

// AddBy is Add on behalf of a principal, who is named in the audit log.
func (s *Service) AddBy(ctx context.Context, org, principal string, e Entry) error {
	if err := queues.CheckOrg(org); err != nil {
		return err
	}
	e.Label = normLabel(e.Label)
	a, err := s.check(org, e.Artifact)
	if err != nil {
		return err
	}
	if err := checkParams(a, e.Parameters); err != nil {
		return err
	}
	if e.Parameters != nil {
		e.Parameters = e.Parameters.Copy()
	}
	s.mu.Lock()
	t, err := s.tableLocked(org)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	k := keyOf(e.Artifact, e.Label)
	old, existed := t.entries[k]
	t.entries[k] = &e
	t.version++
	removedAt, wasRemoved := t.removed[e.Artifact]
	delete(t.removed, e.Artifact)
	if err := s.saveLocked(org, t); err != nil {
		t.version--
		if existed {
			t.entries[k] = old
		} else {
			delete(t.entries, k)
		}
		if wasRemoved {
			t.removed[e.Artifact] = removedAt
		}
		s.mu.Unlock()
		return err
	}
	s.notifyLocked(org)
	s.mu.Unlock()
	_ = s.m.Audit(context.WithoutCancel(ctx), org, "client_monitoring_add", principal, ordereddict.NewDict().
		Set("artifact", e.Artifact).Set("label", e.Label).Set("parameters", paramsOrEmpty(e.Parameters)).Set("replaced", existed))
	return nil
}

// Remove takes the entry of an artifact and label out of an org's table
// and stores the table. It reports whether there was one; removing what
// is not there changes nothing and is not audited.
func (s *Service) Remove(org, artifact, label string) (bool, error) {
	return s.RemoveBy(context.Background(), org, queues.ServerSender.Principal, artifact, label)
}

// RemoveBy is Remove on behalf of a principal, who is named in the audit
// log.
func (s *Service) RemoveBy(ctx context.Context, org, principal, artifact, label string) (bool, error) {
	if err := queues.CheckOrg(org); err != nil {
		return false, err
	}
	label = normLabel(label)
	s.mu.Lock()
	t, err := s.tableLocked(org)
	if err != nil {
		s.mu.Unlock()
		return false, err
	}
	k := keyOf(artifact, label)
	old, ok := t.entries[k]
	if !ok {
		s.mu.Unlock()
		return false, nil
	}
	delete(t.entries, k)
	t.version++
	gone := !t.hasArtifact(artifact)
	if gone {
		t.removed[artifact] = time.Now().UTC()
	}
	if err := s.saveLocked(org, t); err != nil {
		t.version--
		t.entries[k] = old
		if gone {
			delete(t.removed, artifact)
		}
		s.mu.Unlock()
		return false, err
	}
	s.notifyLocked(org)
	s.mu.Unlock()
	_ = s.m.Audit(context.WithoutCancel(ctx), org, "client_monitoring_rm", principal, ordereddict.NewDict().
		Set("artifact", artifact).Set("label", old.Label))
	return true, nil
}

// Entries returns an org's table sorted by label (every client's first)
// then artifact. The values are copies.
func (s *Service) Entries(org string) ([]Entry, error) {
	list, _, err := s.snapshot(org)
	return list, err
}

// snapshot is the org's entries, sorted, with the table's version.
func (s *Service) snapshot(org string) ([]Entry, int64, error) {
	if err := queues.CheckOrg(org); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableLocked(org)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Entry, 0, len(t.entries))
	for _, e := range t.entries {
		c := *e
		if c.Parameters != nil {
			c.Parameters = c.Parameters.Copy()
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		li, lj := strings.ToLower(out[i].Label), strings.ToLower(out[j].Label)
		if li != lj {
			return li < lj
		}
		return out[i].Artifact < out[j].Artifact
	})
	return out, t.version, nil
}

// Changed returns a channel closed at the next change of an org's table.
// Take it before reading the table (Entries, For), then wait on it: a
// change between the two still closes it.
func (s *Service) Changed(org string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.changed[org]
	if !ok {
		ch = make(chan struct{})
		s.changed[org] = ch
	}
	return ch
}

// notifyLocked wakes whoever waits for the org's table. s.mu is held.
func (s *Service) notifyLocked(org string) {
	if ch, ok := s.changed[org]; ok {
		close(ch)
		delete(s.changed, org)
	}
}

// check finds an artifact clients can run from the table.
func (s *Service) check(org, name string) (*artifacts.Artifact, error) {
	if name == "" {
		return nil, fmt.Errorf("no artifact named")
	}
	repo := s.m.Repository()
	a, ok := repo.Get(org, name)
	if !ok {
		return nil, fmt.Errorf("artifact %s not known%s", name, repo.Missing(org, name))
	}
	if a.Type != artifacts.TypeClientEvent {
		return nil, fmt.Errorf("%s is a%s %s artifact; the client event table holds only CLIENT_EVENT artifacts", name, article(string(a.Type)), a.Type)
	}
	if len(a.Sources) == 0 {
		return nil, fmt.Errorf("%s has no sources: a client would have no query to run", name)
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

func paramsOrEmpty(d *ordereddict.Dict) *ordereddict.Dict {
	if d == nil {
		return ordereddict.NewDict()
	}
	return d
}
