package queues_test

import (
	"testing"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/queues/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) queues.Store { return queues.NewMemoryStore(10000) })
}

func TestBadgerStore(t *testing.T) {
	for _, mode := range []string{"flush", "full", "none"} {
		t.Run(mode, func(t *testing.T) {
			m, _ := queues.ParseSyncMode(mode)
			storetest.Run(t, func(t *testing.T, dir string) queues.Store {
				s, err := queues.OpenBadger(dir, m)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}
