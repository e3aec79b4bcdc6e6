package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/queues"
)

// BufferStore is what the buffer needs of its store: a queue store whose
// events can be removed by position (queues.BadgerStore).
type BufferStore interface {
	queues.Store
	DeleteSeqs(ctx context.Context, queue string, from, to uint64) (int, error)
}

// The buffer's queue in the store, and the cursor naming the first row
// the server has not acknowledged. Neither name can be an org's queue
// (those are org|queue).
const (
	outbox     = "client-outbox"
	ackedUntil = "acked"
)

// DefaultMaxBuffer bounds the rows a client keeps for its server.
const DefaultMaxBuffer = 256 << 20

// buffer is the client's outbox: rows in the order the sources emitted
// them, numbered by the store (the numbers the server deduplicates by),
// until the server acknowledges them.
type buffer struct {
	store BufferStore
	max   int64

	mu      sync.Mutex
	room    *sync.Cond
	next    uint64 // first row not acknowledged
	pending int64  // bytes of rows not acknowledged
	paused  int    // sources waiting for room now
	pauses  int64  // times a source waited, since start
}

// entry is a row as the buffer keeps it.
type entry struct {
	Queue string          `json:"q"`
	Row   json.RawMessage `json:"r"`
}

func openBuffer(ctx context.Context, store BufferStore, max int64) (*buffer, error) {
	if max <= 0 {
		max = DefaultMaxBuffer
	}
	b := &buffer{store: store, max: max}
	b.room = sync.NewCond(&b.mu)
	first, _, err := store.Bounds(outbox)
	if err != nil {
		return nil, err
	}
	next, ok, err := store.Cursor(outbox, ackedUntil)
	if err != nil {
		return nil, err
	}
	if !ok || next < first {
		next = first
	}
	b.next = next
	// What is still to send counts against the bound: read it once.
	for from := next; ; {
		evs, err := store.Read(ctx, outbox, from, 1000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			b.pending += int64(len(ev.Data))
		}
		from = evs[len(evs)-1].Seq + 1
	}
	return b, nil
}

// put stores a row; it returns once the row is on disk. When the buffer
// is full it waits for room (the source pauses) or for ctx to end.
func (b *buffer) put(ctx context.Context, queue string, row json.RawMessage) error {
	data, err := json.Marshal(entry{Queue: queue, Row: row})
	if err != nil {
		return err
	}
	n := int64(len(data))
	if n > b.max {
		return fmt.Errorf("a row of %d bytes is larger than the whole buffer (--max-buffer %d)", n, b.max)
	}
	b.mu.Lock()
	if b.pending+n > b.max {
		b.paused++
		b.pauses++
		stop := context.AfterFunc(ctx, func() {
			b.mu.Lock()
			b.room.Broadcast()
			b.mu.Unlock()
		})
		for b.pending+n > b.max && ctx.Err() == nil {
			b.room.Wait()
		}
		stop()
		b.paused--
	}
	if ctx.Err() != nil {
		b.mu.Unlock()
		return ctx.Err()
	}
	b.pending += n
	b.mu.Unlock()
	if _, err := b.store.Append(context.WithoutCancel(ctx), outbox, [][]byte{data}); err != nil {
		b.mu.Lock()
		b.pending -= n
		b.mu.Unlock()
		return err
	}
	return nil
}

// batch reads up to max rows (and about maxBytes) not yet acknowledged,
// in order.
func (b *buffer) batch(ctx context.Context, maxRows int, maxBytes int) ([]clientapi.Row, int64, error) {
	b.mu.Lock()
	from := b.next
	b.mu.Unlock()
	evs, err := b.store.Read(ctx, outbox, from, maxRows)
	if err != nil {
		return nil, 0, err
	}
	var rows []clientapi.Row
	var size int64
	for _, ev := range evs {
		if len(rows) > 0 && size+int64(len(ev.Data)) > int64(maxBytes) {
			break
		}
		var e entry
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			return nil, 0, fmt.Errorf("buffer: row %d unreadable: %v", ev.Seq, err)
		}
		rows = append(rows, clientapi.Row{Seq: ev.Seq, Queue: e.Queue, Row: e.Row})
		size += int64(len(ev.Data))
	}
	return rows, size, nil
}

// ack forgets the rows through seq, which the server stored; size is
// their bytes as batch counted them.
func (b *buffer) ack(ctx context.Context, through uint64, size int64) error {
	b.mu.Lock()
	from := b.next
	b.mu.Unlock()
	if through < from {
		return nil
	}
	// The cursor first: a crash after it and before the deletion leaves
	// rows the next start skips, never rows sent twice as new.
	if err := b.store.SetCursor(outbox, ackedUntil, through+1); err != nil {
		return err
	}
	b.mu.Lock()
	b.next = through + 1
	b.pending -= size
	if b.pending < 0 {
		b.pending = 0
	}
	b.room.Broadcast()
	b.mu.Unlock()
	// The last acknowledged row stays: the store numbers the next row
	// after the last it holds, and the server drops rows numbered at or
	// below what it stored, so an emptied buffer must not start again
	// at 1.
	first, _, err := b.store.Bounds(outbox)
	if err != nil {
		return err
	}
	_, err = b.store.DeleteSeqs(ctx, outbox, first, through)
	return err
}

// notify is closed by the next row put.
func (b *buffer) notify() <-chan struct{} { return b.store.Notify(outbox) }

// Stats are the buffer's figures, as the client reports them.
type Stats struct {
	PendingRows  uint64 // rows the server has not acknowledged
	PendingBytes int64
	MaxBytes     int64
	Paused       int
	Pauses       int64
}

func (b *buffer) stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Stats{PendingBytes: b.pending, MaxBytes: b.max, Paused: b.paused, Pauses: b.pauses}
	if _, last, err := b.store.Bounds(outbox); err == nil && last >= b.next {
		st.PendingRows = last - b.next + 1
	}
	return st
}
