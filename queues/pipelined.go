package queues

import (
	"context"
	"fmt"
	"sync"

	"github.com/Velocidex/ordereddict"
)

// AppendStarter is a Store that can take an append without waiting for
// it: the events are queued for the commit in the order the calls came,
// and wait returns once they are as durable as Append would have made
// them. A store whose appends are immediate need not implement it.
type AppendStarter interface {
	StartAppend(ctx context.Context, queue string, data [][]byte) (wait func() ([]Event, error), err error)
}

// Sends are the send_event() calls of one statement whose events are on
// their way to the store. A statement that sends one event per row would
// otherwise wait for a commit per row, and its sends could never share a
// group commit: with them pipelined, the rows are computed ahead while
// the committer writes the events in groups, and whoever passes the
// statement's rows on (the runner's output, an API response) waits for
// the sends before a row leaves — so a row a reader sees still means its
// event is stored, as with a send that waits.
type Sends struct {
	mu      sync.Mutex
	waits   []func() error // started and not yet waited for, in order
	started int64
	settled int64 // sends waited for
	err     error // the first that failed

	waitMu sync.Mutex // one waiter at a time walks waits
}

// maxInFlight bounds the sends of a statement that nobody has waited for
// yet, and so the memory their events hold: a statement that sends far
// more events than it yields rows waits for its oldest sends as it goes.
const maxInFlight = 1024

type sendsKey struct{}

// WithSends returns a context in which send_event() pipelines its sends
// into s. The caller must Wait for them before it passes on a row the
// statement produced after them, and before it reports the statement
// done.
func WithSends(ctx context.Context, s *Sends) context.Context {
	return context.WithValue(ctx, sendsKey{}, s)
}

// SendsOf returns the context's Sends, or nil: sends then wait each for
// its own commit.
func SendsOf(ctx context.Context) *Sends {
	s, _ := ctx.Value(sendsKey{}).(*Sends)
	return s
}

// Started is how many sends were started so far.
func (s *Sends) Started() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// add records a started send; wait returns once it is durable.
func (s *Sends) add(wait func() error) {
	s.mu.Lock()
	s.waits = append(s.waits, wait)
	s.started++
	over := int64(len(s.waits)) > maxInFlight
	n := s.started - maxInFlight
	s.mu.Unlock()
	if over {
		_ = s.Wait(n) // a failure is reported to the statement's waiter
	}
}

// Wait returns once the first n sends are durable, or with the first
// error of any send waited for: the events of the sends after it may not
// be stored, and the rows that depend on them must not be passed on.
func (s *Sends) Wait(n int64) error {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	for {
		s.mu.Lock()
		if s.settled >= n || len(s.waits) == 0 {
			err := s.err
			s.mu.Unlock()
			return err
		}
		wait := s.waits[0]
		s.waits[0] = nil
		s.waits = s.waits[1:]
		s.mu.Unlock()
		err := wait()
		s.mu.Lock()
		s.settled++
		if err != nil && s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
}

// WaitAll waits for every send started so far.
func (s *Sends) WaitAll() error { return s.Wait(s.Started()) }

// SendPipelined is Send for a statement's send_event(): when the queue's
// store can start an append, the row is stamped, checked and queued for
// the commit, and Send returns without waiting for it, recording the wait
// in sends. Errors that need no write (an unknown queue, a row that is not
// a dict, a full disk) come at once, as from Send.
func (m *Manager) SendPipelined(ctx context.Context, org, queue string, row any, from Sender, sends *Sends) (*ordereddict.Dict, error) {
	a, err := m.CheckSend(org, queue, from)
	if err != nil {
		return nil, err
	}
	starter, ok := m.storeFor(a).(AppendStarter)
	if !ok || sends == nil {
		return m.Send(ctx, org, queue, row, from)
	}
	stamped, data, err := m.stamp([]any{row}, from)
	if err != nil {
		return nil, err
	}
	if a.Persisted() {
		m.recordOrg(org)
	}
	wait, err := starter.StartAppend(ctx, storeKey(org, queue), data)
	if err != nil {
		return nil, fmt.Errorf("send_event: %s: %w", queue, err)
	}
	st := m.state(org, queue)
	sends.add(func() error {
		if _, err := wait(); err != nil {
			return fmt.Errorf("send_event: %s: %w", queue, err)
		}
		st.sent.Add(1)
		st.lastEvent.Store(m.now().UnixNano())
		return nil
	})
	return stamped[0], nil
}

// readOwnSends waits for the statement's pipelined sends before it reads
// a queue, so that a query reads what it sent (a failure is the
// statement's waiter's to report).
func readOwnSends(ctx context.Context) {
	if s := SendsOf(ctx); s != nil {
		_ = s.WaitAll()
	}
}
