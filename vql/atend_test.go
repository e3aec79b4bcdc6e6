package vql_test

import (
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql"
)

// TestAtEndOrder: hooks run at Close, the latest first, those marked last
// after all others; Close runs them once, and a hook added after the end
// runs at once.
func TestAtEndOrder(t *testing.T) {
	s := vql.NewEngine().NewSession(vql.SessionOptions{})
	var ran []string
	add := func(name string, last bool) { s.Scope().AtEnd(func() { ran = append(ran, name) }, last) }
	add("dir (last)", true)
	add("a", false)
	add("b", false)
	add("c (last)", true)
	if len(ran) != 0 {
		t.Fatalf("hooks ran before Close: %v", ran)
	}
	s.Close()
	s.Close()
	add("late", false)
	if got := strings.Join(ran, ", "); got != "b, a, dir (last), c (last), late" {
		t.Errorf("ran %s", got)
	}
}
