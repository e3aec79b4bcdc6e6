package runner

import (
	"errors"
	"sync"
	"testing"

	"github.com/Velocidex/ordereddict"
)

// flushWriter records how many rows were written, and how many of them
// flushed.
type flushWriter struct {
	mu               sync.Mutex
	written, flushed int
	fail             bool
}

func (w *flushWriter) Begin() error { return nil }
func (w *flushWriter) Row(*ordereddict.Dict) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return errors.New("output gone")
	}
	w.written++
	return nil
}
func (w *flushWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushed = w.written
	return nil
}
func (w *flushWriter) End() error { return w.Flush() }

// TestBarrierWaitsForTheFlush: the barrier a consumer calls returns only
// once the rows produced so far are written and flushed, and fails once
// the output failed (those rows were not delivered).
func TestBarrierWaitsForTheFlush(t *testing.T) {
	w := &flushWriter{}
	rows := make(chan *ordereddict.Dict, 64)
	ack := newOutputAck()
	res := make(chan error, 1)
	go func() {
		_, err := pump(rows, true, w, ack)
		res <- err
	}()
	for i := 1; i <= 100; i++ {
		ack.produced.Add(1)
		rows <- ordereddict.NewDict().Set("i", i)
		if err := ack.barrier(); err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		flushed := w.flushed
		w.mu.Unlock()
		if flushed < i {
			t.Fatalf("barrier returned with %d of %d rows flushed", flushed, i)
		}
	}
	// Events the query's WHERE drops produce no row: the barrier does
	// not wait for them.
	if err := ack.barrier(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.fail = true
	w.mu.Unlock()
	ack.produced.Add(1)
	rows <- ordereddict.NewDict()
	if err := ack.barrier(); err == nil {
		t.Fatal("the barrier confirmed a row the output refused")
	}
	close(rows)
	<-res
}
