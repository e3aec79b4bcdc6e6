package queues

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is one event of a queue as a store holds it.
type Event struct {
	// Seq is the event's position in its queue: 1, 2, 3 … with no gaps.
	Seq uint64
	// Time is when the store accepted the event; it never decreases along
	// a queue, so a time can be turned into a position.
	Time time.Time
	// Data is the stamped row, encoded once (JSON) for every reader.
	Data []byte
}

// Store keeps the events of many queues. Sequence assignment and commit are
// atomic per queue: a reader never sees event n+1 before event n. Every
// backend runs the shared suite in queues/storetest.
type Store interface {
	// Append adds events to the end of a queue and returns them with their
	// sequence numbers and times. It returns once the events are as
	// durable as the store's sync mode promises.
	Append(ctx context.Context, queue string, data [][]byte) ([]Event, error)
	// Read returns up to max events of a queue with Seq >= from, in order.
	// A result that starts after from means events in between are gone
	// (retention, or a bounded store that overwrote them). A store may
	// return fewer than max to bound the memory one read takes (large
	// events); only an empty result means there is nothing more now.
	Read(ctx context.Context, queue string, from uint64, max int) ([]Event, error)
	// Bounds returns the first stored sequence number and the last one
	// assigned. An empty queue has first == last+1.
	Bounds(queue string) (first, last uint64, err error)
	// SeekTime returns the position of the first event at or after t
	// (last+1 when there is none).
	SeekTime(ctx context.Context, queue string, t time.Time) (uint64, error)
	// Notify returns a channel closed by the next Append to queue. Take it
	// before reading, then wait on it, and no event is missed.
	Notify(queue string) <-chan struct{}
	// AppendProduced is Append for events their producer numbers (a
	// client's rows, seqs[i] the number of data[i], increasing): an event
	// whose number is not above the last one stored for (queue, producer)
	// is dropped, and the new last number is stored atomically with the
	// events, so that a producer retrying a batch it got no answer for
	// never duplicates an event. It returns the events stored now.
	AppendProduced(ctx context.Context, queue, producer string, seqs []uint64, data [][]byte) ([]Event, error)
	// Produced returns the last number stored for (queue, producer), 0
	// when it has stored none.
	Produced(queue, producer string) (uint64, error)
	// Cursor returns the next position stored for a named consumer.
	Cursor(queue, consumer string) (next uint64, ok bool, err error)
	// SetCursor stores a named consumer's next position.
	SetCursor(queue, consumer string, next uint64) error
	// Trim removes a queue's events older than before; it returns how many.
	Trim(ctx context.Context, queue string, before time.Time) (int, error)
	// Features says what the store guarantees.
	Features() Features
	// Close flushes and releases the store.
	Close() error
}

// Features describes a store, so that callers (and the shared test suite)
// know what to expect of it.
type Features struct {
	// Persistent stores keep events across a restart.
	Persistent bool
	// Bounded stores keep only the most recent events of each queue; a
	// reader that falls further behind loses the overflow.
	Bounded bool
	// MaxQueueBytes is, for a bounded store, how many bytes of event data
	// it keeps per queue (the newest event is kept even when larger);
	// 0 when only the number of events is bounded.
	MaxQueueBytes int64
}

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("queue store is closed")

// ErrBatchTooLarge is returned for a producer's batch a store cannot
// take atomically; the producer should send it in smaller parts.
var ErrBatchTooLarge = errors.New("batch too large")

// checkProduced validates the arguments of AppendProduced.
func checkProduced(producer string, seqs []uint64, data [][]byte) error {
	if producer == "" || strings.ContainsRune(producer, 0) {
		return fmt.Errorf("append: producer %q: must be non-empty, without NUL", producer)
	}
	if len(seqs) != len(data) {
		return fmt.Errorf("append: %d sequence numbers for %d events", len(seqs), len(data))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			return fmt.Errorf("append: producer %s: sequence numbers must increase (%d after %d)", producer, seqs[i], seqs[i-1])
		}
	}
	return nil
}
