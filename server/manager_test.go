package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vqlq/vqlq/queues"
)

// newTestManager is a queue manager on a real badger store in a temporary
// folder, with a SERVER_EVENT artifact of each name given, closed when the
// test ends. opts may set the memory store; Disk and Definitions are
// filled in. The store also keeps the tokens.
func newTestManager(t testing.TB, opts queues.Options, serverEvents ...string) (*queues.Manager, *queues.BadgerStore) {
	t.Helper()
	defs := t.TempDir()
	for i, name := range serverEvents {
		def := []byte("name: " + name + "\ntype: SERVER_EVENT\n")
		if err := os.WriteFile(filepath.Join(defs, "a"+string(rune('a'+i))+".yaml"), def, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk, err := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	opts.Disk, opts.Definitions = disk, defs
	m, err := queues.New(opts)
	if err != nil {
		disk.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, disk
}
