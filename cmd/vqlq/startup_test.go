package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/creack/pty"

	"github.com/vqlq/vqlq/queues"
)

// fillStore writes n events into a data folder.
func fillStore(t *testing.T, dir string, n int) {
	disk, err := queues.OpenBadger(dir, queues.SyncNone)
	if err != nil {
		t.Fatal(err)
	}
	m, err := queues.New(queues.Options{Disk: disk})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	internal := queues.Sender{Principal: "server", Internal: true}
	for i := 0; i < n; i += 1000 {
		rows := make([]any, 0, 1000)
		for j := i; j < min(i+1000, n); j++ {
			rows = append(rows, ordereddict.NewDict().Set("operation", "test").Set("i", int64(j)))
		}
		if _, err := m.SendMany(context.Background(), "root", queues.AuditQueue, rows, internal); err != nil {
			t.Fatal(err)
		}
	}
}

// ptyReader collects everything a pty prints, in the background (a pty
// does not honour read deadlines), and answers the cursor-position queries
// (ESC [6n) a line editor sends, as a terminal would.
type ptyReader struct {
	mu   sync.Mutex
	seen bytes.Buffer
}

func readPty(f *os.File) *ptyReader {
	r := &ptyReader{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			r.mu.Lock()
			r.seen.Write(buf[:n])
			r.mu.Unlock()
			for range bytes.Count(buf[:n], []byte("\x1b[6n")) {
				f.Write([]byte("\x1b[1;1R"))
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// until waits for want to appear and returns when it was first seen (to
// within the polling interval); the deadline is a hang guard.
func (r *ptyReader) until(t *testing.T, want string) time.Time {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		ok := strings.Contains(r.seen.String(), want)
		r.mu.Unlock()
		if ok {
			return time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("never saw %q in %q", want, r.seen.String())
	return time.Time{}
}

// TestStartupOnALargeStore measures how long the prompt takes to appear on
// a data folder holding a million events (VQLQ_STARTUP_EVENTS changes the
// count), and how long the first statement that opens the store takes. The
// figures are logged for BENCHMARKS.md; the test checks that the store is
// intact, not the time.
func TestStartupOnALargeStore(t *testing.T) {
	n := 1_000_000
	if s := os.Getenv("VQLQ_STARTUP_EVENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		n = 10_000
	}
	data := filepath.Join(t.TempDir(), "data")
	fillStore(t, data, n)

	cmd := exec.Command(vqlqBin, "--data-dir", data)
	start := time.Now()
	f, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait(); f.Close() }()
	out := readPty(f)
	prompt := out.until(t, "vqlq> ")
	// .queues opens the store and reads every queue's bounds (two seeks
	// each): it does not scan events either.
	f.Write([]byte(".format jsonl\r.queues\r"))
	asked := time.Now()
	out.until(t, `"name":"Server.Audit.Logs","type":"server_event","persisted":true,"watchers":0,"events":0,"stored":`+strconv.Itoa(n))
	listed := time.Now()
	f.Write([]byte("SELECT count() AS n FROM source(artifact='Server.Audit.Logs') GROUP BY 1\r"))
	counting := time.Now()
	out.until(t, `{"n":`+strconv.Itoa(n)+`}`)
	t.Logf("%d events in the store: prompt after %v; .queues (opens the store) %v; reading and counting every event %v",
		n, prompt.Sub(start).Round(time.Millisecond), listed.Sub(asked).Round(time.Millisecond), time.Since(counting).Round(time.Millisecond))
}
