//go:build linux

package host_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestWatchSyslog follows a real file through appends, a partial line, a
// rename rotation and a truncation, then stops when the query is
// cancelled.
func TestWatchSyslog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	write(t, log, os.O_CREATE|os.O_WRONLY, "from before the query\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The path as a pathspec, in a list, as an artifact may pass it.
	lines, ended := start(t, ctx, `SELECT * FROM watch_syslog(filename=[pathspec(parse="`+log+`")])`)
	waitOpen(t, log)
	expect := func(step string, want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-lines:
				if got != w {
					t.Fatalf("%s: got %s, want %s", step, got, w)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no row; wanted %s", step, w)
			}
		}
	}
	appendTo := func(path, text string) { write(t, path, os.O_APPEND|os.O_WRONLY, text) }

	appendTo(log, "Accepted password for alice\n")
	appendTo(log, "half a ")
	appendTo(log, "line\r\n")
	expect("appends", `{"Line":"Accepted password for alice"}`, `{"Line":"half a line"}`)

	// Rotation: the file is renamed, written to once more, then a new
	// one is made.
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(log+".1", "last of the old file\n")
	write(t, log, os.O_CREATE|os.O_EXCL|os.O_WRONLY, "first of the new file\n")
	expect("rotation", `{"Line":"last of the old file"}`, `{"Line":"first of the new file"}`)

	// Truncation: a shorter file is read again from its start.
	write(t, log, os.O_TRUNC|os.O_WRONLY, "cut\n")
	expect("truncation", `{"Line":"cut"}`)

	cancel()
	waitEnd(t, ended)
	if n := len(lines); n != 0 {
		t.Errorf("%d rows more than expected", n)
	}
}

func write(t *testing.T, path string, flags int, text string) {
	t.Helper()
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitOpen waits (a bounded while) until this process holds path open:
// the follower has taken the file's size and lines written from now on
// are new.
func waitOpen(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == path {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s was never opened", path)
}

func TestWatchSyslogArgs(t *testing.T) {
	vqltest.RunWith(t, all, []vqltest.Case{
		{"no file", `SELECT * FROM watch_syslog(filename=[])`, `[]`, "watch_syslog: filename is empty"},
		{"another accessor", `SELECT * FROM watch_syslog(filename="x", accessor="data")`, `[]`, `watch_syslog: accessor "data": only the host's files can be read`},
	})
}

// TestWatchSyslogWaitsForTheFile follows a file that does not exist yet:
// once made, it is read from its start.
func TestWatchSyslogWaitsForTheFile(t *testing.T) {
	log := filepath.Join(t.TempDir(), "later.log")
	go func() {
		time.Sleep(150 * time.Millisecond)
		os.WriteFile(log, []byte("one\ntwo\n"), 0o644)
	}()
	got, logs := vqltest.RowsWith(t, all, `SELECT * FROM watch_syslog(filename="`+log+`") LIMIT 2`)
	if want := `[{"Line":"one"},{"Line":"two"}]`; got != want {
		t.Errorf("got %s, want %s (logs %q)", got, want, logs)
	}
}
