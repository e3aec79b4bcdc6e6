package lru

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		sets  []string
		gets  []string // read in order after sets
		after []string // set after the reads
		want  map[string]bool
	}{
		{"keeps up to size", 2, []string{"a", "b"}, nil, nil, map[string]bool{"a": true, "b": true}},
		{"evicts the oldest", 2, []string{"a", "b", "c"}, nil, nil, map[string]bool{"a": false, "b": true, "c": true}},
		{"a read makes an entry recent", 2, []string{"a", "b"}, []string{"a"}, []string{"c"}, map[string]bool{"a": true, "b": false, "c": true}},
		{"default size", 0, []string{"a"}, nil, nil, map[string]bool{"a": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(tc.size, 0)
			for _, k := range tc.sets {
				c.Set(k, k)
			}
			for _, k := range tc.gets {
				c.Get(k)
			}
			for _, k := range tc.after {
				c.Set(k, k)
			}
			for k, want := range tc.want {
				if _, ok := c.Get(k); ok != want {
					t.Errorf("Get(%q) present = %v, want %v", k, ok, want)
				}
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	c := New(10, time.Nanosecond)
	c.Set("a", 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := c.Get("a"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("entry never expired")
		}
	}
	if c.Len() != 0 {
		t.Errorf("Len() = %d after expiry, want 0", c.Len())
	}
}
