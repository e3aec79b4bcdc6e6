package queues

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Deferred takes a named consumer's acknowledgement away from its watcher
// and gives it to the reader at the end of the query: a forwarder, which
// is done with a row only once a remote sink has accepted the batch that
// holds it, long after the query asked for the next row.
//
// A watcher whose context carries a Deferred does not store its
// consumer's position where it would acknowledge (the query asking for
// the next event, the queue running dry, the watch ending): it hands the
// position over (Hold), and the reader stores every position handed over
// so far (Commit) once every row it received is delivered. A reader that
// takes rows one at a time, in the query's goroutine or through an
// unbuffered channel, may commit at such a point: a position is handed
// over only after the rows of the events before it were yielded, so they
// are in the reader's hands.
//
// While a watcher hands an event out, Origin says which one, so that the
// reader can name the documents made from it after the event's place in
// its queue: a retry then overwrites instead of duplicating. Only a
// watcher whose rows reach the reader in its own goroutine says so (see
// Detached).
type Deferred struct {
	stats *ForwardStats

	mu      sync.Mutex
	pending map[string]func() error // by consumer: store its latest position
	order   []string                // consumers in the order they first held
	origin  Origin
	// active counts the watchers handing an event out now; known says
	// origin is the event of the only one.
	active int
	known  bool
}

// Origin is the event a row came from: its queue and its position there.
type Origin struct {
	Queue string
	Seq   uint64
}

// NewDeferred returns a Deferred whose consumers show stats (consumers(),
// the debug page) while they are watched.
func NewDeferred(stats *ForwardStats) *Deferred {
	return &Deferred{stats: stats, pending: map[string]func() error{}}
}

// Detached marks ctx as that of a query whose rows reach their reader
// later than they are yielded: from another goroutine, through a channel
// (chain(async=TRUE), foreach(workers=…), fifo(), delay()), or after
// being held (batch(), diff(), generate()). The reader may look at a row
// after its watcher went on to the next event, so a watcher under such a
// context does not say which event it hands out. Plugins that run a
// query in a goroutine of their own, or keep its rows, give it this
// context.
func Detached(ctx context.Context) context.Context {
	return context.WithValue(ctx, detachedKey{}, true)
}

// ErrDetachedConsumer refuses a named consumer whose rows would reach
// their reader through another goroutine or a buffer: the consumer is
// done with a row when the query asks for the next one, and behind such
// a stage that is the stage asking, while the row is still on its way to
// the output or the forwarder; a crash then would lose it. Only a
// consumer its client acknowledges (the HTTP API's) is not refused.
var ErrDetachedConsumer = errors.New("a named consumer cannot be acknowledged when read behind chain(async=TRUE), foreach(workers=…), fifo(), delay(), batch(), diff() or generate(): its rows could still be on their way when their events are acknowledged; read it directly in the query's FROM, and put those stages after it")

type detachedKey struct{}

func isDetached(ctx context.Context) bool {
	d, _ := ctx.Value(detachedKey{}).(bool)
	return d
}

// namer is the Deferred a watcher under ctx tells which event it hands
// out, nil when none is or it is detached.
func namer(ctx context.Context) *Deferred {
	if isDetached(ctx) {
		return nil
	}
	return deferredOf(ctx)
}

type deferredKey struct{}

// WithDeferred returns a context whose watchers leave acknowledgement to
// d.
func WithDeferred(ctx context.Context, d *Deferred) context.Context {
	return context.WithValue(ctx, deferredKey{}, d)
}

func deferredOf(ctx context.Context) *Deferred {
	d, _ := ctx.Value(deferredKey{}).(*Deferred)
	return d
}

// hold records a consumer's position to store at the next Commit; a later
// one replaces it.
func (d *Deferred) hold(consumer string, store func() error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pending[consumer]; !ok {
		d.order = append(d.order, consumer)
	}
	d.pending[consumer] = store
}

// Commit stores every position handed over so far. Call it only when
// every row received so far is delivered. A position that cannot be
// stored is kept for the next Commit.
func (d *Deferred) Commit() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var first error
	kept := d.order[:0]
	for _, c := range d.order {
		if err := d.pending[c](); err != nil {
			if first == nil {
				first = err
			}
			kept = append(kept, c)
			continue
		}
		delete(d.pending, c)
	}
	d.order = kept
	return first
}

// enter records that a watcher hands out the event o.
func (d *Deferred) enter(o Origin) {
	d.mu.Lock()
	d.active++
	d.origin, d.known = o, d.active == 1
	d.mu.Unlock()
}

// leave records that the watcher is done handing its event out.
func (d *Deferred) leave() {
	d.mu.Lock()
	d.active--
	d.known = false
	d.mu.Unlock()
}

// Origin is the event a watcher of the query is handing out now, if one
// is: the row the reader receives at this moment was made from it. When
// two hand events out at once (queries running side by side, a watch
// inside another's loop), which one a row came from is not known, and
// Origin says none rather than guess: a document named after the wrong
// event would overwrite another.
func (d *Deferred) Origin() (Origin, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.origin, d.known && d.active == 1
}

// ForwardStats are a forwarder's counts since it started, shown with the
// consumers it reads.
type ForwardStats struct {
	mu  sync.Mutex
	now ForwardInfo
}

// ForwardInfo is what consumers() and the debug page show of the
// forwarder reading a consumer.
type ForwardInfo struct {
	// Sink names the forwarder and where it sends (elastic_upload
	// http://…:9200).
	Sink string
	// Forwarded counts documents the sink accepted; Retries, sends
	// repeated after a failure the sink may recover from; DeadLetters,
	// documents it rejected for good (stored in the dead-letter queue).
	Forwarded, Retries, DeadLetters int64
	// LastError is the last failure, and when (zero: none).
	LastError     string
	LastErrorTime time.Time
}

// NewForwardStats returns the counts of a forwarder sending to sink.
func NewForwardStats(sink string) *ForwardStats {
	return &ForwardStats{now: ForwardInfo{Sink: sink}}
}

// Forwarded counts n documents accepted.
func (s *ForwardStats) Forwarded(n int) {
	s.mu.Lock()
	s.now.Forwarded += int64(n)
	s.mu.Unlock()
}

// Retried counts a send repeated after err.
func (s *ForwardStats) Retried(err error, at time.Time) {
	s.mu.Lock()
	s.now.Retries++
	s.now.LastError, s.now.LastErrorTime = err.Error(), at
	s.mu.Unlock()
}

// DeadLettered counts a document rejected for reason.
func (s *ForwardStats) DeadLettered(reason string, at time.Time) {
	s.mu.Lock()
	s.now.DeadLetters++
	s.now.LastError, s.now.LastErrorTime = reason, at
	s.mu.Unlock()
}

// Snapshot returns the counts as they are now.
func (s *ForwardStats) Snapshot() ForwardInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// attachForwarder lists stats with a consumer while a forwarder reads it;
// the function returned takes them off.
func (m *Manager) attachForwarder(org, queue, consumer string, stats *ForwardStats) func() {
	if stats == nil {
		return func() {}
	}
	key := consumerRecordKey(org, queue, consumer)
	m.forwarders.Store(key, stats)
	return func() { m.forwarders.CompareAndDelete(key, stats) }
}

// forwarderOf returns the stats of the forwarder reading a consumer, if
// one does.
func (m *Manager) forwarderOf(key string) *ForwardInfo {
	v, ok := m.forwarders.Load(key)
	if !ok {
		return nil
	}
	info := v.(*ForwardStats).Snapshot()
	return &info
}
