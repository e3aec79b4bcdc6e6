//go:build linux

package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// change is a watch_files() row without its time, the OSPath relative to
// the watched directory.
type change struct{ Path, Action string }

// fileRows starts watch_files on query's arguments and returns the rows
// as changes below dir, once a probe file shows the watch is in place
// (the probe's own rows are left out).
func fileRows(t *testing.T, ctx context.Context, dir, args string) <-chan change {
	t.Helper()
	rows, _ := start(t, ctx, `SELECT * FROM watch_files(`+args+`)`)
	out := make(chan change, 64)
	go func() {
		for r := range rows {
			var row struct{ OSPath, Action, Time string }
			if json.Unmarshal([]byte(r), &row) != nil || row.Time == "" {
				continue
			}
			rel, _ := filepath.Rel(dir, row.OSPath)
			out <- change{rel, row.Action}
		}
	}()
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("the watch never reported a probe file")
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("probe-%d", i)), nil, 0o644)
		select {
		case c := <-out:
			if strings.HasPrefix(c.Path, "probe-") {
				return withoutProbes(out)
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func withoutProbes(in <-chan change) <-chan change {
	out := make(chan change, 64)
	go func() {
		for c := range in {
			if !strings.HasPrefix(c.Path, "probe-") {
				out <- c
			}
		}
	}()
	return out
}

// next is the next change, waited for a bounded while.
func next(t *testing.T, changes <-chan change, step string) change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no row", step)
	}
	return change{}
}

func expectChanges(t *testing.T, changes <-chan change, step string, want ...change) {
	t.Helper()
	for _, w := range want {
		if got := next(t, changes, step); got != w {
			t.Fatalf("%s: got %v, want %v", step, got, w)
		}
	}
}

// TestWatchFiles makes, writes, renames and removes real files in a
// watched directory and sees one row each, in order.
func TestWatchFiles(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := fileRows(t, ctx, dir, `path="`+dir+`", recursive=TRUE`)
	p := func(name string) string { return filepath.Join(dir, name) }

	os.WriteFile(p("a"), []byte("x"), 0o644)
	expectChanges(t, changes, "write a new file", change{"a", "created"}, change{"a", "modified"})
	os.Chmod(p("a"), 0o600)
	expectChanges(t, changes, "chmod", change{"a", "attributes"})
	os.Rename(p("a"), p("b"))
	expectChanges(t, changes, "rename", change{"a", "renamed"}, change{"b", "created"})

	// Many small writes make few rows, then the removal comes.
	const writes = 50
	f, err := os.OpenFile(p("b"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range writes {
		f.WriteString("y")
	}
	f.Close()
	os.Remove(p("b"))
	modified := 0
	for {
		c := next(t, changes, "writes then removal")
		if c == (change{"b", "removed"}) {
			break
		}
		if c != (change{"b", "modified"}) {
			t.Fatalf("writes then removal: got %v", c)
		}
		modified++
	}
	if modified == 0 || modified >= writes {
		t.Errorf("%d writes made %d modified rows: want at least one and fewer than the writes", writes, modified)
	}

	// A directory made later is watched too.
	os.Mkdir(p("sub"), 0o755)
	expectChanges(t, changes, "mkdir", change{"sub", "created"})
	os.WriteFile(p("sub/c"), nil, 0o644)
	expectChanges(t, changes, "a file in the new directory", change{filepath.Join("sub", "c"), "created"})

	// A file made in a new directory before its watch is in place is
	// reported all the same (perhaps twice: by the look taken when the
	// watch is added, and by the kernel).
	os.MkdirAll(p("deep/er"), 0o755)
	os.WriteFile(p("deep/er/d"), nil, 0o644)
	want := change{filepath.Join("deep", "er", "d"), "created"}
	for c := next(t, changes, "nested directories"); c != want; c = next(t, changes, "nested directories") {
		if !strings.HasPrefix(c.Path, "deep") || c.Action != "created" {
			t.Fatalf("nested directories: got %v, want %v", c, want)
		}
	}
}

// TestWatchFilesScope: without recursive, a subdirectory's files are not
// reported; a file given alone is reported, not its neighbours.
func TestWatchFilesScope(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := fileRows(t, ctx, dir, `path="`+dir+`"`)
	os.WriteFile(filepath.Join(dir, "sub", "x"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "y"), nil, 0o644)
	expectChanges(t, changes, "not recursive", change{"y", "created"})

	// One file of a directory: the neighbour's change is not reported.
	other := t.TempDir()
	watched := filepath.Join(other, "watched")
	os.WriteFile(watched, nil, 0o644)
	rows, _ := start(t, ctx, `SELECT OSPath, Action FROM watch_files(path=["`+watched+`"])`)
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("the file's watch never reported a change")
		}
		os.WriteFile(filepath.Join(other, "neighbour"), []byte("n"), 0o644)
		os.WriteFile(watched, []byte("w"), 0o644)
		select {
		case r := <-rows:
			if want := `{"OSPath":"` + watched + `","Action":"modified"}`; r != want {
				t.Fatalf("got %s, want %s", r, want)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestWatchFilesArgs(t *testing.T) {
	vqltest.RunWith(t, all, []vqltest.Case{
		{"no path", `SELECT * FROM watch_files(path=[])`, `[]`, "watch_files: path is empty"},
		{"another accessor", `SELECT * FROM watch_files(path="x", accessor="data")`, `[]`, `watch_files: accessor "data": only the host's files can be read`},
		{"a path that does not exist", `SELECT * FROM watch_files(path="/no/such/dir")`, `[]`, "watch_files: nothing to watch"},
	})
}
