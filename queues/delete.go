package queues

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/Velocidex/ordereddict"
	badger "github.com/dgraph-io/badger/v4"
)

// Deleter is a store that can delete the events of a time range, leaving
// a gap in the queue's sequence: readers skip it as they skip what
// retention removed. The memory store has none (its queues keep nothing
// worth deleting); a replicated store deletes by sequence number.
type Deleter interface {
	// DeleteRange removes the events of queue whose time is in [start, end)
	// (zero times are unbounded) and returns how many it removed.
	DeleteRange(ctx context.Context, queue string, start, end time.Time) (int, error)
}

// ErrNotDeletable is returned for a queue whose store keeps no events to
// delete (INTERNAL and other in-memory queues).
var ErrNotDeletable = errors.New("only SERVER_EVENT and CLIENT_EVENT queues keep events to delete")

// DeleteRange implements Deleter. The keys go in write batches; the in-memory
// tail forgets what it held of the range, and a range at the front moves
// the queue's first position as Trim does.
func (s *BadgerStore) DeleteRange(ctx context.Context, queue string, start, end time.Time) (int, error) {
	from, to, err := s.seqRange(ctx, queue, start, end)
	if err != nil || from >= to {
		return 0, err
	}
	return s.DeleteSeqs(ctx, queue, from, to)
}

// DeleteSeqs removes the events of queue at positions [from, to): a
// producer's local buffer (package client) drops what its server has
// acknowledged this way.
func (s *BadgerStore) DeleteSeqs(ctx context.Context, queue string, from, to uint64) (int, error) {
	if from >= to {
		return 0, nil
	}
	removed := 0
	prefix := eventPrefix(queue)
	err := s.withDB(true, func(db *badger.DB) error {
		for next := from; next < to; {
			if err := ctx.Err(); err != nil {
				return err
			}
			var keys [][]byte
			err := db.View(func(txn *badger.Txn) error {
				it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
				defer it.Close()
				for it.Seek(eventKey(queue, next)); it.Valid() && len(keys) < 1000; it.Next() {
					seq := binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
					if seq >= to {
						break
					}
					keys = append(keys, it.Item().KeyCopy(nil))
					next = seq + 1
				}
				return nil
			})
			if err != nil || len(keys) == 0 {
				return err
			}
			wb := db.NewWriteBatch()
			for _, k := range keys {
				if err := wb.Delete(k); err != nil {
					wb.Cancel()
					return err
				}
			}
			if err := wb.Flush(); err != nil {
				return err
			}
			removed += len(keys)
			s.forget(queue, from, next)
		}
		return nil
	})
	return removed, err
}

// seqRange turns a time range into positions [from, to).
func (s *BadgerStore) seqRange(ctx context.Context, queue string, start, end time.Time) (uint64, uint64, error) {
	first, last, err := s.Bounds(queue)
	if err != nil {
		return 0, 0, err
	}
	from, to := first, last+1
	if !start.IsZero() {
		if from, err = s.SeekTime(ctx, queue, start); err != nil {
			return 0, 0, err
		}
	}
	if !end.IsZero() {
		if to, err = s.SeekTime(ctx, queue, end); err != nil {
			return 0, 0, err
		}
	}
	return from, to, nil
}

// forget drops [from, to) from what the store holds in memory of queue.
func (s *BadgerStore) forget(queue string, from, to uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[queue]
	if !ok {
		return
	}
	if from <= q.first && to > q.first {
		q.first = to
	}
	q.tail.remove(from, to)
}

// remove leaves holes at the positions [from, to) the ring holds: the
// events after them stay, since with --sync=none they may not be on disk
// yet.
func (r *tailRing) remove(from, to uint64) {
	if r.first == 0 {
		return
	}
	for seq := max(from, r.first); seq < to && seq <= r.last; seq++ {
		ev := &r.buf[seq%tailSize]
		if ev.Seq == seq {
			r.bytes -= int64(len(ev.Data))
			*ev = Event{}
		}
	}
}

// Deletion says what DeleteEvents removed, or would remove.
type Deletion struct {
	Queue    string
	Count    int
	FirstSeq uint64 // 0 when Count is 0
	LastSeq  uint64
	Start    time.Time // of the first event deleted
	End      time.Time // of the last
	Done     bool      // false for a dry run
}

// DeleteEvents deletes the stored events of a queue sent from start to
// end, both included as source() includes them (zero: unbounded), when really is set, and otherwise only says what it
// would delete. A deletion is recorded in Server.Audit.Logs with who asked
// and what went. It is what delete_events() does, and nothing else in
// vqlq removes an event before its retention ends.
func (m *Manager) DeleteEvents(ctx context.Context, org, queue string, start, end time.Time, principal string, really bool) (Deletion, error) {
	d := Deletion{Queue: queue}
	a, err := m.resolve(org, queue, "delete_events")
	if err != nil {
		return d, err
	}
	if !a.Persisted() {
		return d, fmt.Errorf("delete_events: %s is a%s %s artifact: %w", queue, article(string(a.Type)), a.Type, ErrNotDeletable)
	}
	deleter, ok := m.disk.(Deleter)
	if !ok {
		return d, fmt.Errorf("delete_events: %s: this store cannot delete events", queue)
	}
	key := storeKey(org, queue)
	from, err := m.disk.SeekTime(ctx, key, start)
	if err != nil {
		return d, err
	}
	_, last, err := m.disk.Bounds(key)
	if err != nil {
		return d, err
	}
	// Count what the range holds, reading it as source() would.
	for next := from; next <= last; {
		evs, err := m.disk.Read(ctx, key, next, readBatch)
		if err != nil {
			return d, err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if ev.Seq > last || (!end.IsZero() && ev.Time.After(end)) {
				next = last + 1
				break
			}
			if d.Count == 0 {
				d.FirstSeq, d.Start = ev.Seq, ev.Time
			}
			d.Count++
			d.LastSeq, d.End = ev.Seq, ev.Time
			next = ev.Seq + 1
		}
	}
	if !really || d.Count == 0 {
		return d, nil
	}
	// Delete exactly the events counted: a send after the count is not
	// in the range even if end is unbounded.
	n, err := deleter.DeleteRange(ctx, key, d.Start, d.End.Add(time.Nanosecond))
	d.Count, d.Done = n, err == nil
	details := ordereddict.NewDict().Set("queue", queue).Set("first_seq", d.FirstSeq).
		Set("last_seq", d.LastSeq).Set("count", n).
		Set("start", d.Start.UTC().Format(time.RFC3339Nano)).Set("end", d.End.UTC().Format(time.RFC3339Nano))
	if err != nil {
		details.Set("error", err.Error())
	}
	if aerr := m.Audit(context.WithoutCancel(ctx), org, "delete_events", principal, details); aerr != nil && err == nil {
		err = aerr
	}
	return d, err
}
