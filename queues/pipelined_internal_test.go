package queues

import (
	"errors"
	"sync/atomic"
	"testing"
)

// Sends are waited for in the order they started; the first failure is
// what every later wait reports, and a wait for sends before it still
// succeeds.
func TestSendsWaitInOrderAndKeepTheFirstFailure(t *testing.T) {
	boom := errors.New("disk gone")
	var order []int
	s := &Sends{}
	for i := range 5 {
		s.add(func() error {
			order = append(order, i)
			if i == 3 {
				return boom
			}
			return nil
		})
	}
	if s.Started() != 5 {
		t.Fatalf("started %d, want 5", s.Started())
	}
	if err := s.Wait(2); err != nil {
		t.Fatalf("wait for the first 2: %v", err)
	}
	if len(order) != 2 {
		t.Fatalf("waited for %v, want the first 2 only", order)
	}
	if err := s.WaitAll(); !errors.Is(err, boom) {
		t.Fatalf("wait for all: %v, want %v", err, boom)
	}
	if err := s.WaitAll(); !errors.Is(err, boom) {
		t.Fatalf("a later wait: %v, want the first failure again", err)
	}
	if want := []int{0, 1, 2, 3, 4}; len(order) != len(want) {
		t.Fatalf("waited for %v, want %v", order, want)
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("waited for %v, want them in order", order)
		}
	}
}

// A statement that sends far more than anyone waits for holds at most
// maxInFlight sends: adding more waits for the oldest.
func TestSendsInFlightAreBounded(t *testing.T) {
	s := &Sends{}
	var waited atomic.Int64
	for range 3 * maxInFlight {
		s.add(func() error { waited.Add(1); return nil })
		s.mu.Lock()
		n := len(s.waits)
		s.mu.Unlock()
		if n > maxInFlight {
			t.Fatalf("%d sends in flight, want at most %d", n, maxInFlight)
		}
	}
	if got, want := waited.Load(), int64(2*maxInFlight); got != want {
		t.Fatalf("%d sends waited for while adding, want %d", got, want)
	}
	if err := s.WaitAll(); err != nil || waited.Load() != 3*maxInFlight {
		t.Fatalf("wait for all: %v, %d waited", err, waited.Load())
	}
}
