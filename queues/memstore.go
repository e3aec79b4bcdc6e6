package queues

import (
	"context"
	"sort"
	"sync"
	"time"
)

// MemoryStore keeps each queue's most recent events in a ring in memory:
// the store of INTERNAL queues, which carry events between parts of the
// server and are never written to disk. A reader that falls more than the
// ring's capacity behind loses the overflow (and can count it from the gap
// in sequence numbers).
type MemoryStore struct {
	capacity int
	mu       sync.Mutex
	queues   map[string]*ring
	cursors  map[string]uint64
	closed   bool
}

type ring struct {
	events   []Event // grows to capacity, then circular
	first    uint64  // oldest seq held
	last     uint64  // last seq assigned
	lastTime time.Time
	notify   chan struct{}
}

// NewMemoryStore returns a store that holds up to capacity events per
// queue.
func NewMemoryStore(capacity int) *MemoryStore {
	if capacity <= 0 {
		capacity = 10000
	}
	return &MemoryStore{capacity: capacity, queues: map[string]*ring{}, cursors: map[string]uint64{}}
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
			q.events[int((q.last-1)%uint64(m.capacity))] = ev
			q.first = q.last - uint64(m.capacity) + 1
		}
		out[i] = ev
	}
	close(q.notify)
	q.notify = make(chan struct{})
	return out, nil
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
		q.first++
		n++
	}
	return n, nil
}

// Features implements Store.
func (m *MemoryStore) Features() Features { return Features{Persistent: false, Bounded: true} }

// Close implements Store.
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
