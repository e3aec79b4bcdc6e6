package clienttable

import (
	"container/list"
	"sort"
	"sync"
	"time"
)

// The states a client reports of one of its queries.
const (
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateStopped    = "stopped"
	StateError      = "error"
)

// The bounds of what is kept of the clients' reports.
const (
	// DefaultMaxMessages is how many messages are kept per client and
	// artifact: the last ones.
	DefaultMaxMessages = 100
	// DefaultMaxClients is how many clients of an org are kept: those
	// that reported last.
	DefaultMaxClients = 10000
)

// Status is what a client reports of one of its queries.
type Status struct {
	Artifact string
	// State is StateRunning, StateRestarting, StateStopped or StateError.
	State string
	// Error is the last error ("" when none).
	Error string
	// Time is when the client observed this (zero: when reported).
	Time time.Time
	// Messages are new log lines of the query since the last report.
	Messages []string
}

// StatusRow is what the server knows of one query of one client: its last
// reported state and its last messages, oldest first.
type StatusRow struct {
	ClientID string
	Artifact string
	State    string
	Error    string
	// Time is that of the last report.
	Time     time.Time
	Messages []string
}

// Report records what a client says of its queries: each Status replaces
// the state of its artifact and adds its messages. Artifacts not named
// keep what they had.
func (s *Service) Report(org, clientID string, st []Status) {
	s.status.report(org, clientID, st, time.Now())
}

// Logs returns what is known of a client's queries, sorted by artifact;
// with clientID "" every client of the org, sorted by client then
// artifact.
func (s *Service) Logs(org, clientID string) []StatusRow {
	return s.status.rows(org, clientID)
}

// statusBook holds the reports of every org, bounded.
type statusBook struct {
	maxClients, maxMessages int

	mu   sync.Mutex
	orgs map[string]*orgStatus
}

// orgStatus is one org's clients, least recently reported at the back.
type orgStatus struct {
	byID  map[string]*list.Element // -> *clientStatus
	order *list.List
}

type clientStatus struct {
	id      string
	queries map[string]*queryStatus // by artifact
}

type queryStatus struct {
	state, err string
	time       time.Time
	// messages is a ring of at most maxMessages; next is where the next
	// one goes once it is full.
	messages []string
	next     int
}

func newStatusBook(maxClients, maxMessages int) *statusBook {
	return &statusBook{maxClients: maxClients, maxMessages: maxMessages, orgs: map[string]*orgStatus{}}
}

func (b *statusBook) report(org, clientID string, st []Status, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o := b.orgs[org]
	if o == nil {
		o = &orgStatus{byID: map[string]*list.Element{}, order: list.New()}
		b.orgs[org] = o
	}
	el, ok := o.byID[clientID]
	if ok {
		o.order.MoveToFront(el)
	} else {
		el = o.order.PushFront(&clientStatus{id: clientID, queries: map[string]*queryStatus{}})
		o.byID[clientID] = el
		for o.order.Len() > b.maxClients {
			oldest := o.order.Back()
			o.order.Remove(oldest)
			delete(o.byID, oldest.Value.(*clientStatus).id)
		}
	}
	c := el.Value.(*clientStatus)
	for _, x := range st {
		q := c.queries[x.Artifact]
		if q == nil {
			q = &queryStatus{}
			c.queries[x.Artifact] = q
		}
		q.state, q.err, q.time = x.State, x.Error, x.Time
		if q.time.IsZero() {
			q.time = now
		}
		for _, m := range x.Messages {
			q.add(m, b.maxMessages)
		}
	}
}

func (q *queryStatus) add(m string, max int) {
	if len(q.messages) < max {
		q.messages = append(q.messages, m)
		return
	}
	q.messages[q.next] = m
	q.next = (q.next + 1) % max
}

// snapshot is the ring oldest first.
func (q *queryStatus) snapshot() []string {
	out := make([]string, 0, len(q.messages))
	out = append(out, q.messages[q.next:]...)
	return append(out, q.messages[:q.next]...)
}

func (b *statusBook) rows(org, clientID string) []StatusRow {
	b.mu.Lock()
	defer b.mu.Unlock()
	o := b.orgs[org]
	if o == nil {
		return nil
	}
	var clients []*clientStatus
	if clientID != "" {
		if el, ok := o.byID[clientID]; ok {
			clients = append(clients, el.Value.(*clientStatus))
		}
	} else {
		for el := o.order.Front(); el != nil; el = el.Next() {
			clients = append(clients, el.Value.(*clientStatus))
		}
	}
	var out []StatusRow
	for _, c := range clients {
		for name, q := range c.queries {
			out = append(out, StatusRow{ClientID: c.id, Artifact: name, State: q.state, Error: q.err, Time: q.time, Messages: q.snapshot()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ClientID != out[j].ClientID {
			return out[i].ClientID < out[j].ClientID
		}
		return out[i].Artifact < out[j].Artifact
	})
	return out
}
