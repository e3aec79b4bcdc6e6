// Package storetest is the test suite every queue store runs, so that the
// badger store, the memory store and any later backend keep the same
// promises. A store declares what it supports with queues.Features and the
// suite adapts.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
)

// Opener opens a store in dir. Opening the same dir again after Close must
// give back a persistent store's events.
type Opener func(t *testing.T, dir string) queues.Store

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"ConcurrentAppendsAreTotallyOrdered", testConcurrentAppends},
		{"FollowerNeverSkips", testFollowerNeverSkips},
		{"QueuesAreIndependent", testQueuesIndependent},
		{"SeekTime", testSeekTime},
		{"Cursors", testCursors},
		{"Trim", testTrim},
		{"DeleteRange", testDeleteRange},
		{"Persistence", testPersistence},
		{"Bounded", testBounded},
		{"LargeEvents", testLargeEvents},
		{"Closed", testClosed},
		{"Produced", testProduced},
		{"ProducedConcurrentRetries", testProducedConcurrentRetries},
		{"ProducedTooLarge", testProducedTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

var ctx = context.Background()

func payloads(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf(`{"%s":%d}`, prefix, i))
	}
	return out
}

func mustAppend(t *testing.T, s queues.Store, q string, data [][]byte) []queues.Event {
	t.Helper()
	evs, err := s.Append(ctx, q, data)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func readAll(t *testing.T, s queues.Store, q string, from uint64) []queues.Event {
	t.Helper()
	var out []queues.Event
	for {
		evs, err := s.Read(ctx, q, from, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		from = evs[len(evs)-1].Seq + 1
	}
}

func testAppendAndRead(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	evs := mustAppend(t, s, "Q", payloads("a", 3))
	evs = append(evs, mustAppend(t, s, "Q", payloads("b", 2))...)
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	got := readAll(t, s, "Q", 1)
	if len(got) != 5 || string(got[0].Data) != `{"a":0}` || string(got[4].Data) != `{"b":1}` {
		t.Fatalf("read %d events: %+v", len(got), got)
	}
	if mid := readAll(t, s, "Q", 4); len(mid) != 2 || mid[0].Seq != 4 {
		t.Fatalf("read from 4: %+v", mid)
	}
	first, last, err := s.Bounds("Q")
	if err != nil || first != 1 || last != 5 {
		t.Fatalf("bounds %d %d %v", first, last, err)
	}
	if first, last, _ := s.Bounds("Empty"); first != last+1 {
		t.Fatalf("empty queue bounds %d %d", first, last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Fatalf("time went backwards at %d", i)
		}
	}
}

func testConcurrentAppends(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Append(ctx, "Q", [][]byte{[]byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := readAll(t, s, "Q", 1)
	if len(got) != writers*each {
		t.Fatalf("got %d events", len(got))
	}
	seen := map[string]bool{}
	for i, ev := range got {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("gap: position %d has seq %d", i, ev.Seq)
		}
		if seen[string(ev.Data)] {
			t.Fatalf("duplicate %s", ev.Data)
		}
		seen[string(ev.Data)] = true
	}
}

func testFollowerNeverSkips(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	const total = 2000
	done := make(chan []uint64)
	go func() {
		var seqs []uint64
		next := uint64(1)
		for len(seqs) < total {
			wake := s.Notify("Q")
			evs, err := s.Read(ctx, "Q", next, 64)
			if err != nil {
				t.Error(err)
				break
			}
			for _, ev := range evs {
				seqs = append(seqs, ev.Seq)
				next = ev.Seq + 1
			}
			if len(evs) == 0 {
				select {
				case <-wake:
				case <-time.After(10 * time.Second):
					t.Error("follower woke no more")
					done <- seqs
					return
				}
			}
		}
		done <- seqs
	}()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range total / 4 {
				s.Append(ctx, "Q", [][]byte{[]byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
			}
		}()
	}
	wg.Wait()
	seqs := <-done
	if len(seqs) != total {
		t.Fatalf("follower saw %d of %d", len(seqs), total)
	}
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("follower skipped: position %d has seq %d", i, seq)
		}
	}
}

func testQueuesIndependent(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	mustAppend(t, s, "A", payloads("a", 2))
	mustAppend(t, s, "A/Source", payloads("s", 1))
	mustAppend(t, s, "B", payloads("b", 3))
	if n := len(readAll(t, s, "A", 1)); n != 2 {
		t.Errorf("A has %d", n)
	}
	if n := len(readAll(t, s, "A/Source", 1)); n != 1 {
		t.Errorf("A/Source has %d", n)
	}
	if evs := readAll(t, s, "B", 1); len(evs) != 3 || evs[0].Seq != 1 {
		t.Errorf("B: %+v", evs)
	}
}

func testSeekTime(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	mustAppend(t, s, "Q", payloads("a", 3))
	time.Sleep(20 * time.Millisecond)
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	mustAppend(t, s, "Q", payloads("b", 2))
	for _, tt := range []struct {
		at   time.Time
		want uint64
	}{{time.Time{}, 1}, {mid, 4}, {time.Now().Add(time.Hour), 6}} {
		got, err := s.SeekTime(ctx, "Q", tt.at)
		if err != nil || got != tt.want {
			t.Errorf("SeekTime(%v) = %d, %v; want %d", tt.at, got, err, tt.want)
		}
	}
}

func testCursors(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	if _, ok, err := s.Cursor("Q", "c1"); ok || err != nil {
		t.Fatalf("new cursor: %v %v", ok, err)
	}
	if err := s.SetCursor("Q", "c1", 7); err != nil {
		t.Fatal(err)
	}
	s.SetCursor("Q", "c2", 3)
	if next, ok, _ := s.Cursor("Q", "c1"); !ok || next != 7 {
		t.Errorf("c1 = %d %v", next, ok)
	}
	if next, _, _ := s.Cursor("Q", "c2"); next != 3 {
		t.Errorf("c2 = %d", next)
	}
}

func testTrim(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	mustAppend(t, s, "Q", payloads("old", 3))
	time.Sleep(20 * time.Millisecond)
	cut := time.Now()
	mustAppend(t, s, "Q", payloads("new", 2))
	n, err := s.Trim(ctx, "Q", cut)
	if err != nil || n != 3 {
		t.Fatalf("trim removed %d, %v", n, err)
	}
	got := readAll(t, s, "Q", 1)
	if len(got) != 2 || got[0].Seq != 4 {
		t.Fatalf("after trim: %+v", got)
	}
	if first, last, _ := s.Bounds("Q"); first != 4 || last != 5 {
		t.Errorf("bounds after trim %d %d", first, last)
	}
	if evs := mustAppend(t, s, "Q", payloads("more", 1)); evs[0].Seq != 6 {
		t.Errorf("seq after trim %d", evs[0].Seq)
	}
}

func testPersistence(t *testing.T, open Opener) {
	dir := t.TempDir()
	s := open(t, dir)
	if !s.Features().Persistent {
		s.Close()
		t.Skip("store is not persistent")
	}
	mustAppend(t, s, "Q", payloads("a", 3))
	s.SetCursor("Q", "c", 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	got := readAll(t, s, "Q", 1)
	if len(got) != 3 || string(got[2].Data) != `{"a":2}` {
		t.Fatalf("after reopen: %+v", got)
	}
	if evs := mustAppend(t, s, "Q", payloads("b", 1)); evs[0].Seq != 4 {
		t.Errorf("seq continues at %d", evs[0].Seq)
	}
	if next, ok, _ := s.Cursor("Q", "c"); !ok || next != 2 {
		t.Errorf("cursor after reopen %d %v", next, ok)
	}
}

func testBounded(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	if !s.Features().Bounded {
		t.Skip("store is not bounded")
	}
	const n = 50000
	for i := 0; i < n; i += 1000 {
		mustAppend(t, s, "Q", payloads("x", 1000))
	}
	got, err := s.Read(ctx, "Q", 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Seq == 1 {
		t.Fatalf("a bounded store kept all %d events: first read %+v", n, got)
	}
	if _, last, _ := s.Bounds("Q"); last != n {
		t.Errorf("last = %d", last)
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	s.Close()
	if _, err := s.Append(ctx, "Q", payloads("x", 1)); err == nil {
		t.Error("append after close succeeded")
	}
}

// testLargeEvents appends 40 events of 1 MB. A bounded store keeps no more
// than its MaxQueueBytes of them (and the newest); any other store keeps
// them all, whatever it holds in memory, and gives them back intact.
func testLargeEvents(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	const n, size = 40, 1 << 20
	for i := range n {
		ev := make([]byte, size)
		for j := range ev {
			ev[j] = byte('a' + i%26)
		}
		mustAppend(t, s, "Q", [][]byte{ev})
	}
	got := readAll(t, s, "Q", 1)
	if len(got) == 0 || got[len(got)-1].Seq != n {
		t.Fatalf("the newest event is not kept: %d events read", len(got))
	}
	held := int64(0)
	for i, ev := range got {
		held += int64(len(ev.Data))
		want := byte('a' + (int(ev.Seq)-1)%26)
		if len(ev.Data) != size || ev.Data[0] != want || ev.Data[size-1] != want {
			t.Fatalf("event %d (seq %d) is damaged: %d bytes", i, ev.Seq, len(ev.Data))
		}
		if i > 0 && ev.Seq != got[i-1].Seq+1 {
			t.Fatalf("gap inside what is held: %d after %d", ev.Seq, got[i-1].Seq)
		}
	}
	f := s.Features()
	switch {
	case f.Bounded && f.MaxQueueBytes > 0:
		if held > max(f.MaxQueueBytes, size) {
			t.Errorf("holds %d bytes of one queue, over its bound of %d", held, f.MaxQueueBytes)
		}
		if first, _, _ := s.Bounds("Q"); first != got[0].Seq {
			t.Errorf("Bounds says %d is the first held, the read starts at %d", first, got[0].Seq)
		}
	case !f.Bounded:
		if len(got) != n {
			t.Errorf("kept %d of %d events", len(got), n)
		}
	}
}
