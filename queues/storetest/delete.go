package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
)

// testDeleteRange deletes each third of a queue, and pairs of them, by
// time, and reads what is left from the in-memory tail, one event at a
// time across the gap, and (for a persistent store) from disk after a
// reopen.
func testDeleteRange(t *testing.T, open Opener) {
	cases := []struct {
		name    string
		groups  []int // the range deleted: from the start of group a, b or c (0–2) to the start of another (3: the end)
		want    string
		first   uint64
		removed int
		// afterSeek is what a read from SeekTime(start of the range) gets.
		afterSeek string
	}{
		{"front", []int{0, 1}, "b0 b1 b2 c0 c1 c2", 4, 3, "b0 b1 b2 c0 c1 c2"},
		{"middle", []int{1, 2}, "a0 a1 a2 c0 c1 c2", 1, 3, "c0 c1 c2"},
		{"back", []int{2, 3}, "a0 a1 a2 b0 b1 b2", 1, 3, ""},
		{"front two", []int{0, 2}, "c0 c1 c2", 7, 6, "c0 c1 c2"},
		{"back two", []int{1, 3}, "a0 a1 a2", 1, 6, ""},
		{"everything", []int{0, 3}, "", 10, 9, ""},
		{"nothing", []int{3, 3}, "a0 a1 a2 b0 b1 b2 c0 c1 c2", 1, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			d, ok := s.(queues.Deleter)
			if !ok {
				s.Close()
				t.Skip("store deletes no ranges (queues.Deleter)")
			}
			var bounds []time.Time // start of a, b, c, and after c
			for _, g := range []string{"a", "b", "c"} {
				bounds = append(bounds, time.Now())
				time.Sleep(5 * time.Millisecond)
				mustAppend(t, s, "Q", payloads(g, 3))
				time.Sleep(5 * time.Millisecond)
			}
			bounds = append(bounds, time.Now())
			n, err := d.DeleteRange(ctx, "Q", bounds[c.groups[0]], bounds[c.groups[1]])
			if err != nil || n != c.removed {
				t.Fatalf("DeleteRange removed %d, %v; want %d", n, err, c.removed)
			}
			check := func(when string, s queues.Store) {
				t.Helper()
				if got := names(readAll(t, s, "Q", 1)); got != c.want {
					t.Errorf("%s: read %q, want %q", when, got, c.want)
				}
				if got := names(readOneByOne(t, s)); got != c.want {
					t.Errorf("%s: read one at a time %q, want %q", when, got, c.want)
				}
				// A time in a deleted range seeks to the next event left.
				pos, err := s.SeekTime(ctx, "Q", bounds[c.groups[0]])
				if err != nil {
					t.Fatal(err)
				}
				if got := names(readAll(t, s, "Q", pos)); got != c.afterSeek {
					t.Errorf("%s: from SeekTime(start of the range) = %d: %q, want %q", when, pos, got, c.afterSeek)
				}
			}
			check("tail", s)
			if first, _, _ := s.Bounds("Q"); first != c.first {
				t.Errorf("first after delete %d, want %d", first, c.first)
			}
			if evs := mustAppend(t, s, "Q", payloads("d", 1)); evs[0].Seq != 10 {
				t.Errorf("seq after delete %d, want 10", evs[0].Seq)
			}
			c.want = strings.TrimSpace(c.want + " d0")
			if !s.Features().Persistent {
				s.Close()
				return
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir)
			defer s.Close()
			if got := names(readAll(t, s, "Q", 1)); got != c.want {
				t.Errorf("after reopen: read %q, want %q", got, c.want)
			}
			if got := names(readOneByOne(t, s)); got != c.want {
				t.Errorf("after reopen: read one at a time %q, want %q", got, c.want)
			}
		})
	}
}

// readOneByOne reads a queue with max=1, as a slow follower does.
func readOneByOne(t *testing.T, s queues.Store) []queues.Event {
	t.Helper()
	var out []queues.Event
	for from := uint64(1); ; {
		evs, err := s.Read(ctx, "Q", from, 1)
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

// names are the payloads' keys and values, as "a0 a1 …".
func names(evs []queues.Event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		k, v, _ := strings.Cut(strings.Trim(string(ev.Data), "{}"), ":")
		b.WriteString(strings.Trim(k, `"`) + v)
	}
	return b.String()
}
