package queues_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

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

// A memory queue bounded in bytes drops its oldest events to stay within
// the bound, whatever their number; a watcher that falls behind sees the
// drop counted, as when the number of events overflows.
func TestMemoryStoreBoundedInBytes(t *testing.T) {
	s := queues.NewMemoryStoreWith(queues.MemoryOptions{Events: 1000, Bytes: 1 << 20})
	ctx := context.Background()
	ev := make([]byte, 100<<10) // 100 KB: 10 fit in the bound
	for range 50 {
		if _, err := s.Append(ctx, "Q", [][]byte{ev}); err != nil {
			t.Fatal(err)
		}
	}
	first, last, _ := s.Bounds("Q")
	if last != 50 || first != 41 {
		t.Errorf("bounds %d..%d, want 41..50 (ten events of 100 KB in 1 MB)", first, last)
	}
	// One event larger than the bound is still kept, alone.
	s.Append(ctx, "Q", [][]byte{make([]byte, 2<<20)})
	if first, last, _ := s.Bounds("Q"); first != 51 || last != 51 {
		t.Errorf("after a 2 MB event: bounds %d..%d, want 51..51", first, last)
	}
	// Small events fill up again behind it, and push it out.
	for range 3 {
		s.Append(ctx, "Q", [][]byte{ev})
	}
	if first, last, _ := s.Bounds("Q"); first != 52 || last != 54 {
		t.Errorf("bounds %d..%d, want 52..54", first, last)
	}
	// Trim releases what it removes: the bytes held are counted down.
	if n, _ := s.Trim(ctx, "Q", time.Now().Add(time.Hour)); n != 3 {
		t.Errorf("trim removed %d", n)
	}
	for range 10 {
		s.Append(ctx, "Q", [][]byte{ev})
	}
	if first, last, _ := s.Bounds("Q"); first != 55 || last != 64 {
		t.Errorf("after trim and ten more: bounds %d..%d, want 55..64", first, last)
	}

	disk, err := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	m, err := queues.New(queues.Options{Disk: disk, Memory: queues.NewMemoryStoreWith(queues.MemoryOptions{Bytes: 1 << 20})})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var dropped uint64
	seq, err := m.Watch(wctx, "root", "Server.Internal.Ping", queues.WatchOptions{OnDrop: func(n uint64) { dropped += n }})
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iterPull(seq)
	defer stop()
	internal := queues.Sender{Principal: "server", Internal: true}
	big := strings.Repeat("x", 100<<10)
	for i := range 50 {
		if _, err := m.Send(ctx, "root", "Server.Internal.Ping", ordereddict.NewDict().Set("i", int64(i)).Set("pad", big), internal); err != nil {
			t.Fatal(err)
		}
	}
	row, _ := next()
	if got := must(row.Get("i")); got != int64(40) || dropped != 40 {
		t.Fatalf("first row %v after %d dropped; want 40 after 40", got, dropped)
	}
	for _, q := range m.Queues("root") {
		if q.Name == "Server.Internal.Ping" && (q.Dropped != 40 || q.Stored != 10) {
			t.Errorf("queues(): %+v", q)
		}
	}
}
