package queues_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
)

// A watcher that does not read holds at most one read batch: the backlog
// of a disk-backed queue stays on disk. Afterwards it receives everything,
// in order. VQLQ_SLOW_WATCHER_EVENTS sets the count (BENCHMARKS.md reports
// the run with one million).
func TestSlowWatcherDiskQueue(t *testing.T) {
	n := 200_000
	if s := os.Getenv("VQLQ_SLOW_WATCHER_EVENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e := newEnv(t, map[string]string{"r.yaml": receive})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seq, err := e.m.Watch(ctx, "root", "Server.Events.Receive", queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iterPull(seq)
	defer stop()
	// The watcher reads one event, then blocks (nobody pulls) while the
	// rest is sent.
	send := func(from, to int) {
		const batch = 1000
		for i := from; i < to; i += batch {
			rows := make([]any, 0, batch)
			for j := i; j < min(i+batch, to); j++ {
				rows = append(rows, ordereddict.NewDict().Set("i", int64(j)).Set("pad", strings.Repeat("x", 64)))
			}
			if _, err := e.m.SendMany(ctx, "root", "Server.Events.Receive", rows, queues.ServerSender); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 1)
	if row, ok := next(); !ok || fmt.Sprint(must(row.Get("i"))) != "0" {
		t.Fatalf("first event: %v", row)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	for i := 1; i < n; i += 50_000 {
		send(i, min(i+50_000, n))
		runtime.GC() // live heap, not garbage waiting for the collector
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
	}
	t.Logf("%d events sent past a blocked watcher: live heap %.1f MiB before, peak live heap %.1f MiB, RSS %s",
		n, float64(before.HeapAlloc)/(1<<20), float64(peak)/(1<<20), rss())
	if peak > before.HeapAlloc+128<<20 {
		t.Errorf("heap grew by %.1f MiB", float64(peak-before.HeapAlloc)/(1<<20))
	}
	for want := 1; want < n; want++ {
		row, ok := next()
		if !ok {
			t.Fatalf("watcher ended at %d", want)
		}
		if got := must(row.Get("i")); got != int64(want) {
			t.Fatalf("event %d is %v", want, got)
		}
	}
}

func must(v any, _ bool) any { return v }

// rss reads the process's resident set size.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "unknown"
}

// On an INTERNAL queue a slow watcher loses what overflows the queue's
// buffer; the loss is counted in queues() and reported to the watcher.
func TestSlowWatcherInternalQueueDrops(t *testing.T) {
	disk, err := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	m, err := queues.New(queues.Options{Disk: disk, Memory: queues.NewMemoryStore(100)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var dropped uint64
	seq, err := m.Watch(ctx, "root", "Server.Internal.Ping", queues.WatchOptions{OnDrop: func(n uint64) { dropped += n }})
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iterPull(seq)
	defer stop()
	internal := queues.Sender{Principal: "server", Internal: true}
	for i := range 1000 {
		if _, err := m.Send(ctx, "root", "Server.Internal.Ping", ordereddict.NewDict().Set("i", int64(i)), internal); err != nil {
			t.Fatal(err)
		}
	}
	row, _ := next()
	if got := must(row.Get("i")); got != int64(900) || dropped != 900 {
		t.Fatalf("first row %v after %d dropped", got, dropped)
	}
	for _, q := range m.Queues("root") {
		if q.Name == "Server.Internal.Ping" && (q.Dropped != 900 || q.Events != 1000 || q.Watchers != 1) {
			t.Errorf("queues(): %+v", q)
		}
	}
}

func TestInternalDropIsLoggedToTheWatcher(t *testing.T) {
	e := newEnv(t, nil)
	e.m.Close()
	disk, _ := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	m, _ := queues.New(queues.Options{Disk: disk, Memory: queues.NewMemoryStore(10)})
	e.m = m
	go func() {
		// Once the watcher is there (a hang guard bounds the wait).
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && watchersOf(m, "Server.Internal.Pong") == 0; {
			time.Sleep(10 * time.Millisecond)
		}
		for i := range 50 {
			m.Send(context.Background(), "root", "Server.Internal.Pong", ordereddict.NewDict().Set("i", int64(i)), queues.Sender{Principal: "server", Internal: true})
		}
	}()
	rows, logs := e.run("root", `SELECT i FROM watch_monitoring(artifact='Server.Internal.Pong') WHERE sleep(time=0.2) LIMIT 2`)
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "WARN:watch_monitoring: dropped") || !strings.Contains(strings.Join(logs, "\n"), "events from Server.Internal.Pong: watcher too slow") {
		t.Errorf("logs %v", logs)
	}
}

// Events older than the retention period are removed from disk-backed
// queues; INTERNAL queues are not touched (they keep only a window anyway).
func TestRetentionRemovesOldEvents(t *testing.T) {
	disk, err := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	m, err := queues.New(queues.Options{Disk: disk, Retention: time.Hour, Now: func() time.Time { return clock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	for i := range 3 {
		m.Send(ctx, "root", "Server.Audit.Logs", ordereddict.NewDict().Set("i", int64(i)), queues.Sender{Principal: "server", Internal: true})
	}
	if n := m.Retain(ctx); n != 0 {
		t.Fatalf("fresh events removed: %d", n)
	}
	now = now.Add(2 * time.Hour)
	if n := m.Retain(ctx); n != 3 {
		t.Fatalf("removed %d, want 3", n)
	}
	seq, _ := m.Source(ctx, "root", "Server.Audit.Logs", time.Time{}, time.Time{})
	for row := range seq {
		t.Errorf("still stored: %v", row)
	}
}

// watchersOf is how many watchers the root org's queue has.
func watchersOf(m *queues.Manager, queue string) int {
	for _, q := range m.Queues("root") {
		if q.Name == queue {
			return q.Watchers
		}
	}
	return 0
}
