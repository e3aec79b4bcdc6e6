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
// explains them; the refusal is ErrDamagedStore.
func TestUnlistedTableFiles(t *testing.T) {
	base := filepath.Join(t.TempDir(), "data")
	s, err := queues.OpenBadger(base, queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	s.Append(context.Background(), "q", [][]byte{[]byte("x")})
	s.Close()
	tests := []struct {
		name    string
		file    string
		refused bool
	}{
		// Above every id the MANIFEST names, while it lists tables: the
		// output of a compaction interrupted before its record.
		{"an interrupted compaction's output", "000099.sst", false},
		// Not newer than what the MANIFEST names, and never deleted by it:
		// a table it lost.
		{"a table the MANIFEST lost", "000000.sst", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			os.MkdirAll(dir, 0o700)
			for name := range hashFolder(t, base) {
				b, _ := os.ReadFile(filepath.Join(base, name))
				os.WriteFile(filepath.Join(dir, name), b, 0o600)
			}
			os.WriteFile(filepath.Join(dir, tt.file), []byte("not a table"), 0o600)
			s, err := queues.OpenBadger(dir, queues.SyncFlush)
			if s != nil {
				s.Close()
			}
			var de *queues.DamagedStoreError
			if tt.refused != errors.Is(err, queues.ErrDamagedStore) || (tt.refused && (!errors.As(err, &de) || de.File != filepath.Join(dir, "MANIFEST"))) {
				t.Fatalf("open: %v", err)
			}
			if _, statErr := os.Stat(filepath.Join(dir, tt.file)); tt.refused && statErr != nil {
				t.Fatalf("the refused folder lost %s", tt.file)
			}
		})
	}
}
