// Package queuetest builds the throw-away instance a test runs on: a
// queue manager over a real badger store in a temporary data folder, with
// a definitions folder, that can be restarted as a new process would
// open it. Tests use it instead of copying that setup.
package queuetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vqlq/vqlq/queues"
)

// Instance is one data folder and the manager open on it.
type Instance struct {
	t testing.TB
	// Dir is the data folder, Defs the definitions folder ("" for none).
	Dir, Defs string
	Disk      *queues.BadgerStore
	M         *queues.Manager
}

// New opens a fresh data folder with definitions (file name → YAML text);
// it is closed when the test ends.
func New(t testing.TB, defs map[string]string) *Instance {
	t.Helper()
	i := &Instance{t: t, Dir: t.TempDir()}
	if len(defs) > 0 {
		i.Defs = t.TempDir()
		for name, text := range defs {
			if err := os.WriteFile(filepath.Join(i.Defs, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	i.open()
	t.Cleanup(i.Close)
	return i
}

func (i *Instance) open() {
	disk, err := queues.OpenBadger(i.Dir, queues.SyncFlush)
	if err != nil {
		i.t.Fatal(err)
	}
	m, err := queues.New(queues.Options{Disk: disk, Definitions: i.Defs})
	if err != nil {
		disk.Close()
		i.t.Fatal(err)
	}
	i.Disk, i.M = disk, m
}

// Close closes the manager and its store (again is a no-op).
func (i *Instance) Close() {
	if i.M != nil {
		i.M.Close()
		i.M = nil
	}
}

// Restart closes the store and opens it again, as a new process would.
func (i *Instance) Restart() {
	i.Close()
	i.open()
}

// Provider returns the manager open now (after a Restart, the new one).
func (i *Instance) Provider() queues.Provider {
	return func() (*queues.Manager, error) { return i.M, nil }
}
