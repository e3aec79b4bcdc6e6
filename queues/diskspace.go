package queues

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vqlq/vqlq/internal/bytesize"
)

// ErrDiskFull is returned for a write refused because the data folder's
// disk has less free space than the watermark (--min-free). Reads keep
// working; writes resume by themselves once space is freed.
var ErrDiskFull = errors.New("not enough free disk space")

// DiskFullError says how much space is free and what the watermark is.
type DiskFullError struct {
	Dir           string
	Free, MinFree uint64
	// Replay, when set, is the space needed to open a store whose
	// memtable logs (left by a crash) badger must flush first.
	Replay uint64
}

func (e *DiskFullError) Error() string {
	if e.Replay > 0 {
		return fmt.Sprintf("data folder %s: %v: %s free, and replaying the memtable logs a crash left needs about %s (badger would crash writing them); nothing was changed: free space on the disk and start again",
			e.Dir, ErrDiskFull, bytesize.Format(int64(e.Free)), bytesize.Format(int64(e.Replay)))
	}
	return fmt.Sprintf("data folder %s: %v: %s free, below the --min-free watermark of %s; writes are refused until space is freed (reads keep working)",
		e.Dir, ErrDiskFull, bytesize.Format(int64(e.Free)), bytesize.Format(int64(e.MinFree)))
}

func (e *DiskFullError) Unwrap() error { return ErrDiskFull }

// DefaultMinFree is the default watermark. Below it badger would not have
// room for its own background writes, which it makes through mmap and
// which kill the process with SIGBUS when the disk is full: flushing
// every memtable to a table (numMemtables × memTableSize), an L0→L1
// compaction, which writes its output before deleting its inputs (the L0
// tables that trigger it and about as much of L1: 2 × (numLevelZeroTables
// + 1) × memTableSize), and the write-ahead log of a fresh memtable
// (2 × memTableSize, as badger sizes it). With the sizes OpenBadger uses
// that is 272 MiB. Value-log files are not counted: events are far below
// badger's value threshold, so values live in the tables.
const DefaultMinFree = numMemtables*memTableSize + 2*(numLevelZeroTables+1)*memTableSize + 2*memTableSize

// Free space is checked with statfs every spaceInterval, and at once when
// the events admitted since the last check reach a quarter of the
// watermark, so a burst of writes cannot run past it unseen.
const spaceInterval = 500 * time.Millisecond

// DiskSpace is the state of the data folder's disk, for metrics.
type DiskSpace struct {
	Free, MinFree uint64
	Full          bool  // writes are being refused
	Refused       int64 // writes refused since the store was opened
}

// spaceGuard admits writes while the disk has more free space than min.
type spaceGuard struct {
	dir     string
	min     uint64
	budget  int64 // bytes admitted before the next check is forced
	written atomic.Int64
	free    atomic.Uint64
	full    atomic.Bool
	refused atomic.Int64
	mu      sync.Mutex // one statfs at a time
	stop    chan struct{}
	stopped chan struct{}
}

// newSpaceGuard checks dir's disk now and then every spaceInterval; nil
// when min is 0 (no watermark).
func newSpaceGuard(dir string, min uint64) *spaceGuard {
	if min == 0 {
		return nil
	}
	g := &spaceGuard{dir: dir, min: min, budget: int64(max(min/4, 1)), stop: make(chan struct{}), stopped: make(chan struct{})}
	g.refresh()
	go g.loop()
	return g
}

func (g *spaceGuard) loop() {
	defer close(g.stopped)
	t := time.NewTicker(spaceInterval)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.refresh()
		}
	}
}

func (g *spaceGuard) close() {
	if g != nil {
		close(g.stop)
		<-g.stopped
	}
}

// refresh reads the free space (available to this user, as statfs
// reports it) and decides whether writes are admitted.
func (g *spaceGuard) refresh() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var st syscall.Statfs_t
	if err := syscall.Statfs(g.dir, &st); err != nil {
		return // keep the last answer: the folder's disk is still there
	}
	free := st.Bavail * uint64(st.Bsize)
	g.written.Store(0)
	g.free.Store(free)
	g.full.Store(free < g.min)
}

// roomToReplay refuses to open a store whose memtable logs need a replay
// (after a crash) when the disk cannot hold the tables they flush to:
// badger flushes them at open, through mmap, and a full disk would kill
// the process at every start. A table is at most as large as its log.
func (g *spaceGuard) roomToReplay() error {
	if g == nil {
		return nil
	}
	entries, err := os.ReadDir(g.dir)
	if err != nil {
		return nil
	}
	need := uint64(1 << 20) // the MANIFEST's and the new log's first pages
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				need += uint64(st.Blocks) * 512 // allocated, not the sparse size
			}
		}
	}
	g.refresh()
	if free := g.free.Load(); free < need {
		return &DiskFullError{Dir: g.dir, Free: free, MinFree: g.min, Replay: need}
	}
	return nil
}

// admit is asked before n bytes are written: an atomic add and load,
// except when a quarter of the watermark has been written since the last
// check.
func (g *spaceGuard) admit(n int) error {
	if g == nil {
		return nil
	}
	if !g.full.Load() && g.written.Add(int64(n)) >= g.budget {
		g.refresh()
	}
	if g.full.Load() {
		g.refused.Add(1)
		return &DiskFullError{Dir: g.dir, Free: g.free.Load(), MinFree: g.min}
	}
	return nil
}

func (g *spaceGuard) state() DiskSpace {
	if g == nil {
		return DiskSpace{}
	}
	return DiskSpace{Free: g.free.Load(), MinFree: g.min, Full: g.full.Load(), Refused: g.refused.Load()}
}

// DiskSpace reports the disk of the manager's store, if it watches one.
func (m *Manager) DiskSpace() (DiskSpace, bool) {
	d, ok := m.disk.(interface{ DiskSpace() (DiskSpace, bool) })
	if !ok {
		return DiskSpace{}, false
	}
	return d.DiskSpace()
}
