package queues

import (
	"context"
	"sort"
	"sync"
	"time"
)

// MemoryStore keeps each queue's most recent events in a ring in memory:
// the store of INTERNAL queues, which carry events between parts of the
// server and are never written to disk. A queue holds at most a number of
// events and a number of bytes of event data, whichever is reached first;
// the oldest events make room. A reader that falls behind what is held
// loses the overflow (and can count it from the gap in sequence numbers).
type MemoryStore struct {
	capacity int
	maxBytes int64
	mu       sync.Mutex
	queues   map[string]*ring
	cursors  map[string]uint64
	produced map[string]uint64 // queue NUL producer → last sequence
	closed   bool
}

// Default bounds of a MemoryStore's queues.
const (
	DefaultMemoryEvents = 10000
	DefaultMemoryBytes  = 16 << 20
)

// MemoryOptions bound each queue of a MemoryStore.
type MemoryOptions struct {
	// Events is how many events a queue keeps (default 10,000).
	Events int
	// Bytes is how many bytes of event data a queue keeps (default 16 MB).
	// The newest event is kept even when it alone is larger.
	Bytes int64
}

type ring struct {
	events   []Event // grows to capacity, then circular
	first    uint64  // oldest seq held
	last     uint64  // last seq assigned
	bytes    int64   // data held by events first..last
	lastTime time.Time
	notify   chan struct{}
}

// NewMemoryStore returns a store that holds up to capacity events per
// queue, and up to DefaultMemoryBytes of their data.
func NewMemoryStore(capacity int) *MemoryStore {
	return NewMemoryStoreWith(MemoryOptions{Events: capacity})
}

// NewMemoryStoreWith returns a store whose queues are bounded by opts.
func NewMemoryStoreWith(opts MemoryOptions) *MemoryStore {
	if opts.Events <= 0 {
		opts.Events = DefaultMemoryEvents
	}
	if opts.Bytes <= 0 {
		opts.Bytes = DefaultMemoryBytes
	}
	return &MemoryStore{capacity: opts.Events, maxBytes: opts.Bytes, queues: map[string]*ring{}, cursors: map[string]uint64{}, produced: map[string]uint64{}}
}

func (m *MemoryStore) queue(name string) *ring {
	q, ok := m.queues[name]
	if !ok {
		q = &ring{events: make([]Event, 0, min(m.capacity, 64)), first: 1, notify: make(chan struct{})}
		m.queues[name] = q
	}
	return q
}

// Append implements Store.
func (m *MemoryStore) Append(ctx context.Context, queue string, data [][]byte) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	return m.appendLocked(queue, data), nil
}

// AppendProduced implements Store.
func (m *MemoryStore) AppendProduced(ctx context.Context, queue, producer string, seqs []uint64, data [][]byte) ([]Event, error) {
	if err := checkProduced(producer, seqs, data); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	key := queue + "\x00" + producer
	mark := m.produced[key]
	var kept [][]byte
	for i, seq := range seqs {
		if seq > mark {
			kept = append(kept, data[i])
			mark = seq
		}
	}
	m.produced[key] = mark
	if len(kept) == 0 {
		return nil, nil
	}
	return m.appendLocked(queue, kept), nil
}

// Produced implements Store.
func (m *MemoryStore) Produced(queue, producer string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.produced[queue+"\x00"+producer], nil
}

// appendLocked appends events; m.mu is held.
func (m *MemoryStore) appendLocked(queue string, data [][]byte) []Event {
	q := m.queue(queue)
	now := time.Now()
	out := make([]Event, len(data))
	for i, d := range data {
		q.last++
		if now.Before(q.lastTime) {
			now = q.lastTime
		}
		q.lastTime = now
		ev := Event{Seq: q.last, Time: now, Data: d}
		if len(q.events) < m.capacity {
			q.events = append(q.events, ev)
		} else {
			// The slot holds seq last-capacity: drop it if still held.
			for q.first+uint64(m.capacity) <= q.last {
				q.dropFirst(m.capacity)
			}
			q.events[int((q.last-1)%uint64(m.capacity))] = ev
		}
		q.bytes += int64(len(d))
		for q.bytes > m.maxBytes && q.first < q.last {
			q.dropFirst(m.capacity)
		}
		out[i] = ev
	}
	close(q.notify)
	q.notify = make(chan struct{})
	return out
}

// dropFirst forgets the oldest event held, releasing its data.
func (q *ring) dropFirst(capacity int) {
	ev := q.atIndex(q.first, capacity)
	q.bytes -= int64(len(ev.Data))
	ev.Data = nil
	q.first++
}

// Read implements Store.
func (m *MemoryStore) Read(ctx context.Context, queue string, from uint64, max int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	q := m.queue(queue)
	if from < q.first {
		from = q.first
	}
	var out []Event
	for s := from; s <= q.last && len(out) < max; s++ {
		out = append(out, *q.atIndex(s, m.capacity))
	}
	return out, nil
}

// atIndex finds seq in a ring that may still be growing towards capacity.
func (q *ring) atIndex(seq uint64, capacity int) *Event {
	if len(q.events) < capacity {
		return &q.events[seq-1]
	}
	return &q.events[int((seq-1)%uint64(capacity))]
}

// Bounds implements Store.
func (m *MemoryStore) Bounds(queue string) (uint64, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue(queue)
	return q.first, q.last, nil
}

// SeekTime implements Store.
func (m *MemoryStore) SeekTime(ctx context.Context, queue string, t time.Time) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue(queue)
	n := int(q.last - q.first + 1)
	i := sort.Search(n, func(i int) bool {
		return !q.atIndex(q.first+uint64(i), m.capacity).Time.Before(t)
	})
	return q.first + uint64(i), nil
}

// Notify implements Store.
func (m *MemoryStore) Notify(queue string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queue(queue).notify
}

// Cursor implements Store.
func (m *MemoryStore) Cursor(queue, consumer string) (uint64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.cursors[queue+"\x00"+consumer]
	return v, ok, nil
}

// SetCursor implements Store.
func (m *MemoryStore) SetCursor(queue, consumer string, next uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[queue+"\x00"+consumer] = next
	return nil
}

// Trim implements Store.
func (m *MemoryStore) Trim(ctx context.Context, queue string, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue(queue)
	n := 0
	for q.first <= q.last && q.atIndex(q.first, m.capacity).Time.Before(before) {
		q.dropFirst(m.capacity)
		n++
	}
	return n, nil
}

// Features implements Store.
func (m *MemoryStore) Features() Features {
	return Features{Persistent: false, Bounded: true, MaxQueueBytes: m.maxBytes}
}

// Close implements Store.
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
