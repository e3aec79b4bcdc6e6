package queues

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/vqlq/vqlq/internal/private"
)

// SyncMode says when Append returns relative to the disk.
type SyncMode int

const (
	// SyncFlush (the default) acknowledges an event once its group commit
	// is written to the store's write-ahead log: a crash or kill -9 of the
	// process loses nothing acknowledged. The operating system writes it
	// to the device in its own time.
	SyncFlush SyncMode = iota
	// SyncFull also waits for the group commit to be fsynced, so even a
	// power loss keeps acknowledged events. Concurrent senders share each
	// fsync.
	SyncFull
	// SyncNone acknowledges an event as soon as it has its place in the
	// queue; it is written a moment later. Fastest; a kill -9 can lose the
	// last moment's events.
	SyncNone
)

// ParseSyncMode reads the --sync flag: flush, full or none.
func ParseSyncMode(s string) (SyncMode, error) {
	switch s {
	case "", "flush":
		return SyncFlush, nil
	case "full":
		return SyncFull, nil
	case "none":
		return SyncNone, nil
	}
	return 0, fmt.Errorf("--sync must be flush, full or none, not %q", s)
}

// Key layout. Queue names never contain NUL.
//
//	e <queue> 0 <seq:8>       event: <unix nanos:8><data>
//	c <queue> 0 <consumer>    consumer cursor: <next seq:8>
//	k <key>                   key-value data (artifacts, alert windows)
//	p <queue> 0 <producer>    a producer's last stored sequence: <seq:8>
const (
	prefixEvent    = 'e'
	prefixCursor   = 'c'
	prefixKV       = 'k'
	prefixProduced = 'p'
)

func eventPrefix(queue string) []byte {
	b := make([]byte, 0, len(queue)+2)
	b = append(b, prefixEvent)
	b = append(b, queue...)
	return append(b, 0)
}

func eventKey(queue string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(eventPrefix(queue), seq)
}

// tailSize is how many recent events of each queue are kept in memory, so
// that live watchers are served without touching the disk; tailBytes
// bounds their data (large events leave the tail sooner and are read from
// disk).
const (
	tailSize  = 1024
	tailBytes = 4 << 20
)

// readBytes bounds the event data one Read from disk returns (it always
// returns at least one event): a watcher of a queue of large events does
// not hold readBatch of them at once.
const readBytes = 4 << 20

// maxGroup bounds how many append requests one group commit takes.
const maxGroup = 4096

// BadgerStore keeps queues in a badger database on disk. Appends from all
// goroutines go to one committer, which writes them in groups: one write
// (and with SyncFull one fsync) serves every event waiting at that moment.
type BadgerStore struct {
	dir  string
	opts BadgerOptions

	// dbMu guards db and readOnly: every use of db holds it shared, the
	// switch from read-only to read-write holds it exclusively.
	dbMu     sync.RWMutex
	db       *badger.DB
	readOnly bool
	broken   error // set when the switch to read-write left no open store
	space    *spaceGuard
	mode     SyncMode

	sendMu sync.RWMutex // Append holds it shared while queueing; Close exclusively
	closed bool
	reqs   chan *appendReq
	done   chan struct{}

	// mu guards queues. Readers of a queue already loaded share it, so
	// that many watchers catching up never queue in front of the
	// committer one by one.
	mu     sync.RWMutex
	queues map[string]*diskQueue
}

type diskQueue struct {
	first, last uint64 // committed bounds
	assigned    uint64 // last sequence handed out (≥ last while a group is in flight)
	lastTime    time.Time
	notify      chan struct{}
	tail        tailRing // the most recent committed events
	// produced holds the last producer sequence stored (or in flight) of
	// each producer that appended since the queue was loaded; others are
	// read from disk on first use.
	produced map[string]uint64
}

// tailRing holds the last tailSize events of a queue, and at most
// tailBytes of their data, in a fixed buffer indexed by sequence number.
type tailRing struct {
	buf         []Event
	first, last uint64 // bounds held (first == 0: empty)
	bytes       int64  // data held by first..last
}

func (r *tailRing) push(ev Event) {
	if r.buf == nil {
		r.buf = make([]Event, tailSize)
	}
	if r.first == 0 || ev.Seq != r.last+1 {
		// Empty, or a gap after a reload: start again.
		clear(r.buf)
		r.first, r.bytes = ev.Seq, 0
	}
	r.last = ev.Seq
	for r.last-r.first >= tailSize {
		r.dropFirst()
	}
	r.buf[ev.Seq%tailSize] = ev
	r.bytes += int64(len(ev.Data))
	for r.bytes > tailBytes && r.first <= r.last {
		r.dropFirst()
	}
	if r.first > r.last {
		r.first, r.bytes = 0, 0
	}
}

// dropFirst forgets the oldest event held, releasing its data.
func (r *tailRing) dropFirst() {
	ev := &r.buf[r.first%tailSize]
	if ev.Seq == r.first {
		r.bytes -= int64(len(ev.Data))
	}
	*ev = Event{}
	r.first++
}

// from copies up to max events starting at seq, if the ring holds seq.
// Positions delete_events removed are holes (their slot's Seq is not
// theirs), skipped as a read from disk skips their missing keys.
func (r *tailRing) from(seq uint64, max int) ([]Event, bool) {
	if r.first == 0 || seq < r.first || seq > r.last {
		return nil, false
	}
	out := make([]Event, 0, min(uint64(max), r.last-seq+1))
	for ; seq <= r.last && len(out) < max; seq++ {
		if ev := r.buf[seq%tailSize]; ev.Seq == seq {
			out = append(out, ev)
		}
	}
	return out, true
}

// dropBefore forgets events before seq (they were trimmed).
func (r *tailRing) dropBefore(seq uint64) {
	if r.first == 0 {
		return
	}
	for r.first < seq && r.first <= r.last {
		r.dropFirst()
	}
	if r.first > r.last {
		r.first, r.bytes = 0, 0
	}
}

type appendReq struct {
	queue  string
	data   [][]byte
	events []Event
	err    error
	done   chan struct{}

	// producer and seqs are set for AppendProduced: data[i] is the
	// producer's event seqs[i], and mark the producer's last sequence
	// once this request is stored.
	producer string
	seqs     []uint64
	mark     uint64
}

// lockFile names the process holding the data folder.
const lockFile = "vqlq.pid"

// BadgerOptions configure OpenBadgerWith.
type BadgerOptions struct {
	// Sync says when Append returns.
	Sync SyncMode
	// ReadFirst opens an existing store read-only, so that a command that
	// only reads changes nothing in the folder; the first write (an
	// event, a cursor, a key) reopens it read-write. Retention does not
	// run on a read-only store. A folder without a store yet, or one a
	// crash left with memtable logs to replay (badger must truncate them,
	// which read-only mode refuses), is opened read-write at once.
	ReadFirst bool
	// MinFree is the free-space watermark of the folder's disk (0: none):
	// below it events are refused with ErrDiskFull, and a store opened
	// with so little space is opened read-only (badger's compactions at
	// open would crash the process) until space is freed.
	MinFree uint64
	// BusyHint ends the message of a FolderBusyError: what the program
	// opening the folder advises its user to do about it.
	BusyHint string
}

// OpenBadger opens (or creates) the store in dir, read-write.
func OpenBadger(dir string, mode SyncMode) (*BadgerStore, error) {
	return OpenBadgerWith(dir, BadgerOptions{Sync: mode})
}

// OpenBadgerWith opens (or creates) the store in dir. The folder is
// created 0700 and every file in it 0600: badger creates its tables,
// value logs and memtables with mode 0666 and has no option for it, so
// the umask of the whole process is set to 0o077 first
// (private.Restrict) and left so.
//
// A folder whose files badger would discard is refused with a
// *DamagedStoreError (errors.Is ErrDamagedStore) before badger sees it.
func OpenBadgerWith(dir string, o BadgerOptions) (*BadgerStore, error) {
	private.Restrict()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &BadgerStore{dir: dir, opts: o, mode: o.Sync, reqs: make(chan *appendReq, 1024), done: make(chan struct{}), queues: map[string]*diskQueue{}}
	s.space = newSpaceGuard(dir, o.MinFree)
	readOnly := (o.ReadFirst || s.space.state().Full) && hasStore(dir)
	db, err := s.openDB(readOnly)
	if readOnly && errors.Is(err, errReplayNeeded) {
		if s.space.state().Full {
			if err := s.space.roomToReplay(); err != nil {
				s.space.close()
				return nil, err
			}
		}
		readOnly = false
		db, err = s.openDB(false)
	}
	if err != nil {
		s.space.close()
		return nil, err
	}
	s.db, s.readOnly = db, readOnly
	go s.commitLoop()
	return s, nil
}

// errReplayNeeded is a read-only open refused because a crash left
// memtable logs that badger must truncate.
var errReplayNeeded = errors.New("the store's memtable logs need a replay that writes")

// hasStore reports whether dir holds a badger store (its MANIFEST).
func hasStore(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, manifestFile))
	return err == nil
}

// ErrFolderBusy is matched (errors.Is) by a FolderBusyError.
var ErrFolderBusy = errors.New("data folder in use by another process")

// FolderBusyError is the refusal to open a data folder another process
// has open. Holder names that process (" (pid N: command line)") when it
// can be found; Hint is BadgerOptions.BusyHint.
type FolderBusyError struct {
	Dir, Holder, Hint string
}

func (e *FolderBusyError) Error() string {
	msg := fmt.Sprintf("data folder %s is in use by another process%s", e.Dir, e.Holder)
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrFolderBusy) true.
func (e *FolderBusyError) Is(target error) bool { return target == ErrFolderBusy }

// openDB checks the folder, then opens badger on it.
func (s *BadgerStore) openDB(readOnly bool) (*badger.DB, error) {
	if err := checkFolder(s.dir); err != nil {
		return nil, err
	}
	opts := badger.DefaultOptions(s.dir).
		WithLogger(badgerLogger{}).
		WithReadOnly(readOnly).
		WithSyncWrites(s.mode == SyncFull).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(16 << 20).
		WithValueLogFileSize(valueLogFileSize).
		WithNumLevelZeroTables(numLevelZeroTables).
		WithNumCompactors(2)
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, &FolderBusyError{Dir: s.dir, Holder: holder(s.dir), Hint: s.opts.BusyHint}
		}
		if strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()) {
			// badger wraps it without %w.
			return nil, errReplayNeeded
		}
		return nil, fmt.Errorf("opening data folder %s: %w", s.dir, err)
	}
	if !readOnly {
		_ = os.WriteFile(filepath.Join(s.dir, lockFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	}
	return db, nil
}

// Badger's sizes, which the free-space watermark is derived from.
const (
	memTableSize       = 16 << 20
	numMemtables       = 3
	numLevelZeroTables = 5
	valueLogFileSize   = 64 << 20
)

// writable reopens a read-only store read-write, once, before its first
// write.
func (s *BadgerStore) writable() error {
	s.dbMu.RLock()
	ro := s.readOnly
	s.dbMu.RUnlock()
	if !ro {
		return nil
	}
	if err := s.space.admit(0); err != nil {
		return err // opened read-only for want of space: stay so
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if !s.readOnly {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("data folder %s: closing the read-only store to write: %w", s.dir, err)
	}
	db, err := s.openDB(false)
	if err != nil {
		// Keep reading what could be read before.
		again, rerr := s.openDB(true)
		if rerr != nil {
			s.broken = fmt.Errorf("data folder %s could not be reopened: %w", s.dir, err)
		} else {
			s.db = again
		}
		return fmt.Errorf("opening to write: %w", err)
	}
	s.db, s.readOnly = db, false
	return nil
}

// ReadOnly reports whether the store is still open read-only.
func (s *BadgerStore) ReadOnly() bool {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	return s.readOnly
}

// withDB runs fn on the open database; with write set, a read-only store
// is reopened read-write first.
func (s *BadgerStore) withDB(write bool, fn func(db *badger.DB) error) error {
	if write {
		if err := s.writable(); err != nil {
			return err
		}
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.broken != nil {
		return s.broken
	}
	return fn(s.db)
}

// view runs a read transaction.
func (s *BadgerStore) view(fn func(txn *badger.Txn) error) error {
	return s.withDB(false, func(db *badger.DB) error { return db.View(fn) })
}

// update runs a write transaction.
func (s *BadgerStore) update(fn func(txn *badger.Txn) error) error {
	return s.withDB(true, func(db *badger.DB) error { return db.Update(fn) })
}

// holder describes the processes that hold the data folder's lock: from
// /proc/locks (a read-only opener writes no pid file), else the pid file.
func holder(dir string) string {
	pids := lockHolders(dir)
	if len(pids) == 0 {
		b, err := os.ReadFile(filepath.Join(dir, lockFile))
		if err != nil {
			return ""
		}
		pids = []string{strings.TrimSpace(string(b))}
	}
	var parts []string
	for _, pid := range pids {
		cmd, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if len(cmd) > 0 {
			parts = append(parts, fmt.Sprintf("pid %s: %s", pid, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))))
		} else {
			parts = append(parts, "pid "+pid)
		}
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// lockHolders lists the pids holding a flock on dir, from /proc/locks
// (Linux): lines such as "1: FLOCK ADVISORY WRITE 1234 fe:00:99 0 EOF",
// the last field of the device being the inode.
func lockHolders(dir string) []string {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil
	}
	ino := ":" + strconv.FormatUint(st.Ino, 10)
	var pids []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "FLOCK" && strings.HasSuffix(f[5], ino) && !slices.Contains(pids, f[4]) {
			pids = append(pids, f[4])
		}
	}
	return pids
}

// badgerLogger passes badger's errors on and keeps its chatter quiet.
type badgerLogger struct{}

func (badgerLogger) Errorf(f string, a ...any)   { fmt.Fprintf(os.Stderr, "badger: "+f, a...) }
func (badgerLogger) Warningf(f string, a ...any) {}
func (badgerLogger) Infof(f string, a ...any)    {}
func (badgerLogger) Debugf(f string, a ...any)   {}

// state returns a queue's in-memory state, loading its bounds from disk
// on first use (two seeks; opening the store reads no events). Callers
// hold s.mu.
func (s *BadgerStore) state(queue string) (*diskQueue, error) {
	if q, ok := s.queues[queue]; ok {
		return q, nil
	}
	q := &diskQueue{notify: make(chan struct{})}
	prefix := eventPrefix(queue)
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		it.Seek(prefix)
		if it.Valid() {
			q.first = binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
		}
		it.Close()
		rit := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer rit.Close()
		rit.Seek(append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if rit.Valid() {
			item := rit.Item()
			q.last = binary.BigEndian.Uint64(item.Key()[len(prefix):])
			return item.Value(func(v []byte) error {
				if len(v) >= 8 {
					q.lastTime = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if q.first == 0 {
		q.first = q.last + 1
	}
	q.assigned = q.last
	s.queues[queue] = q
	return q, nil
}

// AppendProduced implements Store. The events a producer sent before
// (sequence not above its mark) are dropped under the lock that assigns
// sequence numbers, and the new mark is written in the same transaction as
// the events: a crash leaves both or neither.
func (s *BadgerStore) AppendProduced(ctx context.Context, queue, producer string, seqs []uint64, data [][]byte) ([]Event, error) {
	if err := checkProduced(producer, seqs, data); err != nil {
		return nil, err
	}
	if err := s.admitProduced(data); err != nil {
		return nil, err
	}
	wait, err := s.startAppend(ctx, &appendReq{queue: queue, data: data, producer: producer, seqs: seqs, done: make(chan struct{})})
	if err != nil {
		return nil, err
	}
	return wait()
}

// admitProduced refuses a producer's batch that could not be written in
// one badger transaction (the mark must commit with its events).
func (s *BadgerStore) admitProduced(data [][]byte) error {
	var size int64
	for _, d := range data {
		size += int64(len(d)) + entryOverhead
	}
	var limit, count int64
	err := s.withDB(false, func(db *badger.DB) error {
		limit, count = db.MaxBatchSize()/2, db.MaxBatchCount()/2
		return nil
	})
	if err != nil {
		return err
	}
	if size > limit || int64(len(data))+1 > count {
		return fmt.Errorf("%w: %d events of %d bytes in one batch; the store takes at most %d bytes or %d events from a producer at once",
			ErrBatchTooLarge, len(data), size, limit, count)
	}
	return nil
}

// entryOverhead is what a stored event costs beyond its data in a badger
// transaction: its key (queue and sequence), time, and badger's own
// bookkeeping, generously.
const entryOverhead = 128

func producedKey(queue, producer string) []byte {
	return []byte(string(prefixProduced) + queue + "\x00" + producer)
}

// Produced implements Store.
func (s *BadgerStore) Produced(queue, producer string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.state(queue)
	if err != nil {
		return 0, err
	}
	return s.producedLocked(q, queue, producer)
}

// producedLocked returns a producer's mark in a loaded queue. s.mu is held.
func (s *BadgerStore) producedLocked(q *diskQueue, queue, producer string) (uint64, error) {
	if mark, ok := q.produced[producer]; ok {
		return mark, nil
	}
	var mark uint64
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(producedKey(queue, producer))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) == 8 {
				mark = binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	if q.produced == nil {
		q.produced = map[string]uint64{}
	}
	q.produced[producer] = mark
	return mark, nil
}

// Append implements Store. Below the free-space watermark it refuses
// with a *DiskFullError (errors.Is ErrDiskFull).
func (s *BadgerStore) Append(ctx context.Context, queue string, data [][]byte) ([]Event, error) {
	wait, err := s.StartAppend(ctx, queue, data)
	if err != nil {
		return nil, err
	}
	return wait()
}

// StartAppend implements AppendStarter: the events are handed to the
// committer, in order, and wait says when they are durable. Refusals that
// need no write (a full disk, a closed store) come at once.
func (s *BadgerStore) StartAppend(ctx context.Context, queue string, data [][]byte) (wait func() ([]Event, error), err error) {
	if s.space != nil {
		n := 0
		for _, d := range data {
			n += len(d)
		}
		if err := s.space.admit(n); err != nil {
			return nil, err
		}
	}
	return s.startAppend(ctx, &appendReq{queue: queue, data: data, done: make(chan struct{})})
}

// startAppend hands a request to the committer.
func (s *BadgerStore) startAppend(ctx context.Context, req *appendReq) (wait func() ([]Event, error), err error) {
	if s.space != nil && req.producer != "" {
		n := 0
		for _, d := range req.data {
			n += len(d)
		}
		if err := s.space.admit(n); err != nil {
			return nil, err
		}
	}
	s.sendMu.RLock()
	if s.closed {
		s.sendMu.RUnlock()
		return nil, ErrClosed
	}
	s.reqs <- req
	s.sendMu.RUnlock()
	return func() ([]Event, error) {
		// Wait even if ctx ends: the events are on their way to the disk
		// and the caller must learn where they landed.
		<-req.done
		return req.events, req.err
	}, nil
}

func (s *BadgerStore) commitLoop() {
	defer close(s.done)
	for req := range s.reqs {
		group := []*appendReq{req}
	drain:
		for len(group) < maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.commit(group)
	}
}

// commit writes one group: sequence numbers are assigned under the lock,
// the events written in as few transactions as badger allows, and the
// queues' committed bounds advanced only after the write succeeded.
func (s *BadgerStore) commit(group []*appendReq) {
	now := time.Now()
	s.mu.Lock()
	for _, r := range group {
		q, err := s.state(r.queue)
		if err != nil {
			r.err = err
			continue
		}
		t := now
		if t.Before(q.lastTime) {
			t = q.lastTime
		}
		q.lastTime = t
		if r.producer != "" {
			if r.err = s.dropProduced(q, r); r.err != nil {
				continue
			}
		}
		r.events = make([]Event, len(r.data))
		for i, d := range r.data {
			q.assigned++
			r.events[i] = Event{Seq: q.assigned, Time: t, Data: d}
		}
	}
	acked := s.mode == SyncNone
	if acked {
		// Without a sync the events are visible, and acknowledged, before
		// they reach the disk.
		s.publish(group)
	}
	s.mu.Unlock()
	if acked {
		for _, r := range group {
			close(r.done)
		}
	}
	err := s.write(group)
	s.mu.Lock()
	if err != nil {
		for _, r := range group {
			if !acked && r.err == nil {
				r.err, r.events = err, nil
			}
			delete(s.queues, r.queue) // reload the true bounds from disk
		}
	} else if !acked {
		s.publish(group)
	}
	s.mu.Unlock()
	if !acked {
		for _, r := range group {
			close(r.done)
		}
	}
}

// dropProduced removes from a producer's request the events already stored
// or in flight, and advances the producer's mark past the rest. s.mu is
// held.
func (s *BadgerStore) dropProduced(q *diskQueue, r *appendReq) error {
	mark, err := s.producedLocked(q, r.queue, r.producer)
	if err != nil {
		return err
	}
	kept := r.data[:0:0]
	for i, seq := range r.seqs {
		if seq > mark {
			kept = append(kept, r.data[i])
			mark = seq
		}
	}
	r.data, r.mark = kept, mark
	q.produced[r.producer] = mark
	return nil
}

// publish makes a group's events visible to readers: it advances the
// queues' committed bounds, keeps the events in the in-memory tail and
// wakes the followers. Callers hold s.mu.
func (s *BadgerStore) publish(group []*appendReq) {
	touched := map[string]*diskQueue{}
	for _, r := range group {
		q := s.queues[r.queue]
		if r.err != nil || q == nil || len(r.events) == 0 {
			continue
		}
		q.last = r.events[len(r.events)-1].Seq
		for _, ev := range r.events {
			q.tail.push(ev)
		}
		touched[r.queue] = q
	}
	for _, q := range touched {
		close(q.notify)
		q.notify = make(chan struct{})
	}
}

func (s *BadgerStore) write(group []*appendReq) error {
	return s.withDB(true, func(db *badger.DB) error { return writeGroup(db, group) })
}

// writeGroup writes a group's events in as few transactions as badger
// allows. A producer's request goes whole into one transaction with its
// mark: when it might not fit beside what the transaction holds, that is
// committed first (admitProduced made sure it fits alone).
func writeGroup(db *badger.DB, group []*appendReq) error {
	txn := db.NewTransaction(true)
	defer func() { txn.Discard() }()
	var size, count int64
	for _, r := range group {
		if r.err != nil {
			continue
		}
		if r.producer != "" {
			var need int64
			for _, ev := range r.events {
				need += int64(len(ev.Data)) + entryOverhead
			}
			if count > 0 && (size+need > db.MaxBatchSize()/2 || count+int64(len(r.events))+1 > db.MaxBatchCount()/2) {
				if err := txn.Commit(); err != nil {
					return err
				}
				txn = db.NewTransaction(true)
				size, count = 0, 0
			}
			if err := txn.Set(producedKey(r.queue, r.producer), binary.BigEndian.AppendUint64(nil, r.mark)); err != nil {
				return err
			}
			count++
		}
		for _, ev := range r.events {
			size += int64(len(ev.Data)) + entryOverhead
			count++
			val := make([]byte, 8, 8+len(ev.Data))
			binary.BigEndian.PutUint64(val, uint64(ev.Time.UnixNano()))
			val = append(val, ev.Data...)
			key := eventKey(r.queue, ev.Seq)
			err := txn.Set(key, val)
			if errors.Is(err, badger.ErrTxnTooBig) {
				if err := txn.Commit(); err != nil {
					return err
				}
				txn = db.NewTransaction(true)
				err = txn.Set(key, val)
			}
			if err != nil {
				return err
			}
		}
	}
	return txn.Commit()
}

// Read implements Store.
func (s *BadgerStore) Read(ctx context.Context, queue string, from uint64, max int) ([]Event, error) {
	if out, ok := s.readTail(queue, from, max); ok {
		return out, nil
	}
	s.mu.Lock()
	q, err := s.state(queue)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if from < q.first {
		from = q.first
	}
	if from > q.last {
		s.mu.Unlock()
		return nil, nil
	}
	if out, ok := q.tail.from(from, max); ok {
		s.mu.Unlock()
		return out, nil
	}
	last := q.last
	s.mu.Unlock()
	var out []Event
	prefix := eventPrefix(queue)
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: min(max, 64)})
		defer it.Close()
		size := 0
		for it.Seek(eventKey(queue, from)); it.Valid() && len(out) < max && (len(out) == 0 || size < readBytes); it.Next() {
			item := it.Item()
			seq := binary.BigEndian.Uint64(item.Key()[len(prefix):])
			if seq > last {
				break
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if len(v) < 8 {
				return fmt.Errorf("queue %s: event %d is corrupt", queue, seq)
			}
			out = append(out, Event{Seq: seq, Time: time.Unix(0, int64(binary.BigEndian.Uint64(v))), Data: v[8:]})
			size += len(v)
		}
		return nil
	})
	return out, err
}

// readTail serves a read from the in-memory tail under the shared lock,
// if the queue is loaded and the tail holds from (or from is past the
// end): the path of every live watcher.
func (s *BadgerStore) readTail(queue string, from uint64, max int) ([]Event, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, ok := s.queues[queue]
	if !ok {
		return nil, false
	}
	if from > q.last && from >= q.first {
		return nil, true
	}
	return q.tail.from(from, max)
}

// Bounds implements Store.
func (s *BadgerStore) Bounds(queue string) (uint64, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.state(queue)
	if err != nil {
		return 0, 0, err
	}
	return q.first, q.last, nil
}

// eventTime reads the time of one event: from the in-memory tail when it
// holds it (with SyncNone the newest events are acknowledged, and
// counted in the bounds, before they reach the disk), else from disk.
func (s *BadgerStore) eventTime(queue string, seq uint64) (time.Time, bool) {
	s.mu.Lock()
	if q, ok := s.queues[queue]; ok {
		if evs, ok := q.tail.from(seq, 1); ok && len(evs) > 0 {
			s.mu.Unlock()
			return evs[0].Time, true
		}
	}
	s.mu.Unlock()
	var t time.Time
	found := false
	_ = s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(eventKey(queue, seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			// A gap delete_events left: the next stored event's time keeps
			// times non-decreasing along the positions, as SeekTime needs.
			it := txn.NewIterator(badger.IteratorOptions{Prefix: eventPrefix(queue)})
			defer it.Close()
			if it.Seek(eventKey(queue, seq)); !it.Valid() {
				return err
			}
			item, err = it.Item(), nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) >= 8 {
				t, found = time.Unix(0, int64(binary.BigEndian.Uint64(v))), true
			}
			return nil
		})
	})
	return t, found
}

// SeekTime implements Store by binary search over the queue: event times
// never decrease along a queue.
func (s *BadgerStore) SeekTime(ctx context.Context, queue string, t time.Time) (uint64, error) {
	first, last, err := s.Bounds(queue)
	if err != nil {
		return 0, err
	}
	n := int(last - first + 1)
	i := sort.Search(n, func(i int) bool {
		et, ok := s.eventTime(queue, first+uint64(i))
		return !ok || !et.Before(t)
	})
	return first + uint64(i), nil
}

// Notify implements Store.
func (s *BadgerStore) Notify(queue string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.state(queue)
	if err != nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return q.notify
}

func cursorKey(queue, consumer string) []byte {
	return []byte(string(prefixCursor) + queue + "\x00" + consumer)
}

// Cursor implements Store.
func (s *BadgerStore) Cursor(queue, consumer string) (uint64, bool, error) {
	var next uint64
	found := false
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(cursorKey(queue, consumer))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) == 8 {
				next, found = binary.BigEndian.Uint64(v), true
			}
			return nil
		})
	})
	return next, found, err
}

// SetCursor implements Store.
func (s *BadgerStore) SetCursor(queue, consumer string, next uint64) error {
	return s.update(func(txn *badger.Txn) error {
		return txn.Set(cursorKey(queue, consumer), binary.BigEndian.AppendUint64(nil, next))
	})
}

// Trim implements Store. A read-only store keeps everything: the next
// process that writes to the folder applies retention.
func (s *BadgerStore) Trim(ctx context.Context, queue string, before time.Time) (int, error) {
	if s.ReadOnly() {
		return 0, nil
	}
	s.mu.Lock()
	q, err := s.state(queue)
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	first, last := q.first, q.last
	s.mu.Unlock()
	removed := 0
	for seq := first; seq <= last; {
		batch, err := s.Read(ctx, queue, seq, 1000)
		if err != nil || len(batch) == 0 {
			return removed, err
		}
		s.dbMu.RLock()
		wb := s.db.NewWriteBatch()
		stop := false
		for _, ev := range batch {
			if !ev.Time.Before(before) {
				stop = true
				break
			}
			if err := wb.Delete(eventKey(queue, ev.Seq)); err != nil {
				wb.Cancel()
				s.dbMu.RUnlock()
				return removed, err
			}
			removed++
			seq = ev.Seq + 1
		}
		err = wb.Flush()
		s.dbMu.RUnlock()
		if err != nil {
			return removed, err
		}
		s.mu.Lock()
		q.first = seq
		q.tail.dropBefore(seq)
		s.mu.Unlock()
		if stop {
			break
		}
	}
	return removed, nil
}

// DiskSpace reports the free space of the folder's disk and whether
// writes are refused; false without a watermark.
func (s *BadgerStore) DiskSpace() (DiskSpace, bool) {
	return s.space.state(), s.space != nil
}

// Features implements Store.
func (s *BadgerStore) Features() Features { return Features{Persistent: true} }

// Close implements Store: pending appends are written, then the database
// is closed.
func (s *BadgerStore) Close() error {
	s.sendMu.Lock()
	if s.closed {
		s.sendMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.sendMu.Unlock()
	<-s.done
	s.space.close()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.broken != nil {
		return nil
	}
	return s.db.Close()
}

// Get reads a key-value entry.
func (s *BadgerStore) Get(key string) ([]byte, bool, error) {
	var out []byte
	found := false
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(string(prefixKV) + key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		found = err == nil
		return err
	})
	return out, found, err
}

// Put writes a key-value entry.
func (s *BadgerStore) Put(key string, value []byte) error {
	return s.update(func(txn *badger.Txn) error {
		return txn.Set([]byte(string(prefixKV)+key), value)
	})
}

// Delete removes a key-value entry.
func (s *BadgerStore) Delete(key string) error {
	return s.update(func(txn *badger.Txn) error {
		return txn.Delete([]byte(string(prefixKV) + key))
	})
}

// Scan calls fn for every key-value entry whose key starts with prefix, in
// key order. The entries are read first, so fn may write.
func (s *BadgerStore) Scan(prefix string, fn func(key string, value []byte) error) error {
	p := []byte(string(prefixKV) + prefix)
	var keys []string
	var values [][]byte
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
		defer it.Close()
		for it.Seek(p); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			keys = append(keys, string(bytes.TrimPrefix(it.Item().Key(), []byte{prefixKV})))
			values = append(values, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := fn(k, values[i]); err != nil {
			return err
		}
	}
	return nil
}

// Keys lists the raw keys of the store (for tests that check what is
// written to disk).
func (s *BadgerStore) Keys() ([]string, error) {
	var out []string
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().KeyCopy(nil)))
		}
		return nil
	})
	return out, err
}
