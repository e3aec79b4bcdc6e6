package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vqlq/vqlq/queues"
)

// testProduced: a producer's retried batch adds only what the store has
// not seen, producers and queues keep separate marks, a persistent store
// keeps them across a reopen, and bad numbering is refused.
func testProduced(t *testing.T, open Opener) {
	dir := t.TempDir()
	s := open(t, dir)
	steps := []struct {
		queue, producer string
		seqs            []uint64
		want            string // the data stored by this call
	}{
		{"Q", "C.1", []uint64{1, 2, 3}, "C.1:1 C.1:2 C.1:3"},
		{"Q", "C.1", []uint64{2, 3, 4}, "C.1:4"},        // a retry overlapping what was stored
		{"Q", "C.1", []uint64{1, 2, 3, 4}, ""},          // a retry of everything
		{"Q", "C.2", []uint64{1, 2}, "C.2:1 C.2:2"},     // another producer, its own numbers
		{"R", "C.1", []uint64{1}, "C.1:1"},              // another queue, its own mark
		{"Q", "C.1", []uint64{10, 11}, "C.1:10 C.1:11"}, // gaps are the producer's business
		{"Q", "C.1", []uint64{9, 11, 12}, "C.1:12"},     // below and at the mark dropped
	}
	for i, st := range steps {
		evs, err := s.AppendProduced(ctx, st.queue, st.producer, st.seqs, numbered(st.producer, st.seqs))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := dataOf(evs); got != st.want {
			t.Errorf("step %d: stored %q, want %q", i, got, st.want)
		}
	}
	wantQ := "C.1:1 C.1:2 C.1:3 C.1:4 C.2:1 C.2:2 C.1:10 C.1:11 C.1:12"
	check := func(when string, s queues.Store) {
		t.Helper()
		if got := dataOf(readAll(t, s, "Q", 1)); got != wantQ {
			t.Errorf("%s: Q holds %q, want %q", when, got, wantQ)
		}
		for _, m := range []struct {
			queue, producer string
			want            uint64
		}{{"Q", "C.1", 12}, {"Q", "C.2", 2}, {"R", "C.1", 1}, {"R", "C.2", 0}} {
			if got, err := s.Produced(m.queue, m.producer); err != nil || got != m.want {
				t.Errorf("%s: Produced(%s, %s) = %d, %v; want %d", when, m.queue, m.producer, got, err, m.want)
			}
		}
	}
	check("before reopen", s)
	bad := []struct {
		producer string
		seqs     []uint64
		n        int
		want     string
	}{
		{"", []uint64{1}, 1, "producer"},
		{"C.1", []uint64{5, 5}, 2, "must increase"},
		{"C.1", []uint64{6, 5}, 2, "must increase"},
		{"C.1", []uint64{20}, 2, "1 sequence numbers for 2 events"},
	}
	for _, b := range bad {
		data := make([][]byte, b.n)
		for i := range data {
			data[i] = []byte(`{}`)
		}
		if _, err := s.AppendProduced(ctx, "Q", b.producer, b.seqs, data); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("AppendProduced(%q, %v): %v, want an error saying %q", b.producer, b.seqs, err, b.want)
		}
	}
	if !s.Features().Persistent {
		s.Close()
		return
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	check("after reopen", s)
	if evs, err := s.AppendProduced(ctx, "Q", "C.1", []uint64{12, 13}, numbered("C.1", []uint64{12, 13})); err != nil || dataOf(evs) != "C.1:13" {
		t.Errorf("after reopen, a retry stored %q, %v; want only C.1:13", dataOf(evs), err)
	}
}

// testProducedConcurrentRetries: many copies of one producer's batches
// racing each other (a client retrying while its first attempt is still
// in flight) store each event once, in order.
func testProducedConcurrentRetries(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	const batches, size, copies = 50, 10, 4
	for b := 0; b < batches; b++ {
		seqs := make([]uint64, size)
		for i := range seqs {
			seqs[i] = uint64(b*size + i + 1)
		}
		var wg sync.WaitGroup
		for c := 0; c < copies; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.AppendProduced(ctx, "Q", "C.1", seqs, numbered("C.1", seqs)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	got := readAll(t, s, "Q", 1)
	if len(got) != batches*size {
		t.Fatalf("stored %d events, want %d", len(got), batches*size)
	}
	for i, ev := range got {
		if want := fmt.Sprintf("C.1:%d", i+1); string(ev.Data) != want {
			t.Fatalf("event %d is %s, want %s", i, ev.Data, want)
		}
	}
}

// testProducedTooLarge: a batch the store cannot take atomically is
// refused with ErrBatchTooLarge, not split.
func testProducedTooLarge(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	defer s.Close()
	const n = 2_000_000
	seqs := make([]uint64, n)
	data := make([][]byte, n)
	for i := range seqs {
		seqs[i] = uint64(i + 1)
		data[i] = []byte(`{}`)
	}
	_, err := s.AppendProduced(ctx, "Q", "C.1", seqs, data)
	if err == nil {
		if s.Features().Bounded {
			return // it keeps what fits, as it does for Append
		}
		if got := readAll(t, s, "Q", 1); len(got) != n {
			t.Fatalf("accepted a batch of %d but holds %d", n, len(got))
		}
		return // the store takes it whole: fine
	}
	if !errors.Is(err, queues.ErrBatchTooLarge) {
		t.Fatalf("err %v, want ErrBatchTooLarge", err)
	}
	if got := readAll(t, s, "Q", 1); len(got) != 0 {
		t.Errorf("a refused batch left %d events", len(got))
	}
}

func numbered(producer string, seqs []uint64) [][]byte {
	out := make([][]byte, len(seqs))
	for i, s := range seqs {
		out[i] = []byte(fmt.Sprintf("%s:%d", producer, s))
	}
	return out
}

func dataOf(evs []queues.Event) string {
	parts := make([]string, len(evs))
	for i, ev := range evs {
		parts[i] = string(ev.Data)
	}
	return strings.Join(parts, " ")
}
