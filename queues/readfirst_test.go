package queues_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vqlq/vqlq/queues"
)

// hashFolder hashes every file of dir by name.
func hashFolder(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

// A store opened ReadFirst reads without changing a byte of the folder,
// and its first write reopens it read-write.
func TestReadFirstChangesNothingUntilItWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	s, err := queues.OpenBadger(dir, queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := s.Append(ctx, "q", [][]byte{fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := hashFolder(t, dir)

	r, err := queues.OpenBadgerWith(dir, queues.BadgerOptions{Sync: queues.SyncFlush, ReadFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReadOnly() {
		t.Fatal("ReadFirst opened the store read-write")
	}
	evs, err := r.Read(ctx, "q", 1, 1000)
	if err != nil || len(evs) != 100 {
		t.Fatalf("read %d events: %v", len(evs), err)
	}
	if n, err := r.Trim(ctx, "q", evs[99].Time.Add(1)); n != 0 || err != nil {
		t.Fatalf("a read-only store trimmed %d: %v", n, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after := hashFolder(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatalf("reading changed the folder:\n%v\n%v", before, after)
	}

	w, err := queues.OpenBadgerWith(dir, queues.BadgerOptions{Sync: queues.SyncFlush, ReadFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	evs, err = w.Append(ctx, "q", [][]byte{[]byte("more")})
	if err != nil || evs[0].Seq != 101 || w.ReadOnly() {
		t.Fatalf("append: %v, %v, read-only %v", evs, err, w.ReadOnly())
	}
	if err := w.SetCursor("q", "c", 5); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s, err = queues.OpenBadger(dir, queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, last, err := s.Bounds("q"); first != 1 || last != 101 || err != nil {
		t.Fatalf("bounds %d..%d, %v", first, last, err)
	}
}

// Table files the MANIFEST does not list are refused unless a crash
// explains them; the refusal is ErrDamagedStore and leaves the file.
func TestUnlistedTableFiles(t *testing.T) {
	base := filepath.Join(t.TempDir(), "data")
	write := func(v string) {
		s, err := queues.OpenBadger(base, queues.SyncFlush)
		if err != nil {
			t.Fatal(err)
		}
		s.Append(context.Background(), "q", [][]byte{[]byte(v)})
		s.Close() // flushes the memtable to a table
	}
	write("a")
	stale, err := os.ReadFile(filepath.Join(base, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	write("b")
	copyTo := func(dir string) {
		os.MkdirAll(dir, 0o700)
		for name := range hashFolder(t, base) {
			b, _ := os.ReadFile(filepath.Join(base, name))
			os.WriteFile(filepath.Join(dir, name), b, 0o600)
		}
	}
	tables, _ := filepath.Glob(filepath.Join(base, "*.sst"))
	if len(tables) != 2 {
		t.Fatalf("tables %v, want two flushes", tables)
	}
	first, _ := os.ReadFile(tables[0])
	tests := []struct {
		name    string
		damage  func(dir string) string // returns the file to keep
		refused bool
	}{
		// The copy holds nothing newer than the listed tables, as the
		// output of a compaction interrupted before its record.
		{"an interrupted compaction's output", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "000099.sst"), first, 0o600)
			return "000099.sst"
		}, false},
		// Not a table: badger could not read it either.
		{"a cut table file", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "000099.sst"), []byte("not a table"), 0o600)
			return "000099.sst"
		}, false},
		// An older copy of the MANIFEST: the second flush is unlisted and
		// holds the only copy of "b".
		{"a stale MANIFEST", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "MANIFEST"), stale, 0o600)
			return filepath.Base(tables[1])
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			copyTo(dir)
			keep := tt.damage(dir)
			s, err := queues.OpenBadger(dir, queues.SyncFlush)
			if s != nil {
				s.Close()
			}
			var de *queues.DamagedStoreError
			if tt.refused != errors.Is(err, queues.ErrDamagedStore) || (tt.refused && (!errors.As(err, &de) || de.File != filepath.Join(dir, "MANIFEST"))) {
				t.Fatalf("open: %v", err)
			}
			if _, statErr := os.Stat(filepath.Join(dir, keep)); tt.refused && statErr != nil {
				t.Fatalf("the refused folder lost %s", keep)
			}
		})
	}
}
