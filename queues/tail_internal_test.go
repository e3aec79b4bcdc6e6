package queues

import "testing"

// The badger store's in-memory tail holds at most tailSize events and
// tailBytes of their data; what it lets go is read from disk instead.
func TestTailRingBoundedInBytes(t *testing.T) {
	var r tailRing
	ev := make([]byte, 100<<10)
	for seq := uint64(1); seq <= 200; seq++ {
		r.push(Event{Seq: seq, Data: ev})
	}
	held := r.last - r.first + 1
	if want := uint64(tailBytes / len(ev)); held != want || r.bytes != int64(held)*int64(len(ev)) {
		t.Fatalf("holds %d events (%d bytes), want %d", held, r.bytes, want)
	}
	live := 0
	for _, e := range r.buf {
		if e.Data != nil {
			live++
		}
	}
	if uint64(live) != held {
		t.Errorf("%d slots still reference data, %d events held", live, held)
	}
	if _, ok := r.from(r.first-1, 10); ok {
		t.Error("an event let go is still served from memory")
	}
	if out, ok := r.from(r.first, 1000); !ok || len(out) != int(held) || out[len(out)-1].Seq != 200 {
		t.Errorf("from(first): %d events, %v", len(out), ok)
	}
	// An event over the bound leaves the tail empty; small ones refill it.
	r.push(Event{Seq: 201, Data: make([]byte, tailBytes+1)})
	if r.first != 0 || r.bytes != 0 {
		t.Errorf("after an event over the bound: first %d, %d bytes", r.first, r.bytes)
	}
	for seq := uint64(202); seq <= 2300; seq++ {
		r.push(Event{Seq: seq, Data: []byte("x")})
	}
	if r.first != 2300-tailSize+1 || r.last != 2300 || r.bytes != tailSize {
		t.Errorf("small events: %d..%d, %d bytes", r.first, r.last, r.bytes)
	}
	r.dropBefore(2300)
	if r.first != 2300 || r.bytes != 1 {
		t.Errorf("after dropBefore: %d..%d, %d bytes", r.first, r.last, r.bytes)
	}
}
