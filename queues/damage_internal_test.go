package queues

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The newest version of a table is read from its index; a file that is
// not a whole table is told apart, never a panic.
func TestTableMaxVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, v := range []string{"a", "b"} {
		s, err := OpenBadger(dir, SyncFlush)
		if err != nil {
			t.Fatal(err)
		}
		s.Append(context.Background(), "q", [][]byte{[]byte(v)})
		s.Close()
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) != 2 {
		t.Fatalf("tables %v", tables)
	}
	v1, ok1 := tableMaxVersion(tables[0])
	v2, ok2 := tableMaxVersion(tables[1])
	if !ok1 || !ok2 || v1 == 0 || v2 <= v1 {
		t.Fatalf("versions %d (%v), %d (%v): the second flush must be newer", v1, ok1, v2, ok2)
	}
	whole, _ := os.ReadFile(tables[0])
	for name, b := range map[string][]byte{
		"empty":      nil,
		"short":      []byte("abc"),
		"garbage":    []byte("not a table at all, not even close"),
		"cut":        whole[:len(whole)/2],
		"all ones":   []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"last byte":  append(append([]byte{}, whole[:len(whole)-1]...), whole[len(whole)-1]^1),
		"index byte": append(append([]byte{}, whole[:len(whole)-40]...), append([]byte{whole[len(whole)-40] ^ 0xff}, whole[len(whole)-39:]...)...),
	} {
		p := filepath.Join(t.TempDir(), "000001.sst")
		os.WriteFile(p, b, 0o600)
		if v, ok := tableMaxVersion(p); ok {
			t.Errorf("%s: read version %d from a broken table", name, v)
		}
	}
}

// FuzzReadManifest: any MANIFEST bytes give a state or a problem, never
// a panic.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("Bdgr\x00\x00\x00\x08"))
	f.Add([]byte("Bdgr\x00\x00\x00\x08\x00\x00\x00\x04\x00\x00\x00\x00abcd"))
	f.Add([]byte("Bdgr\x00\x00\x00\x08\xff\xff\xff\xff\x00\x00\x00\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "MANIFEST")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, problem, err := readManifest(p)
		if err != nil {
			t.Fatal(err)
		}
		if problem == "" && len(b) < 8 {
			t.Fatalf("%q accepted", b)
		}
		_ = st
	})
}
