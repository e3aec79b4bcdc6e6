package vql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrRecursion is why a statement stops when stored queries refer to each
// other more than MaxDepth deep: `LET X = SELECT * FROM X`, or A reading
// B reading A. A stored query that calls itself has no row to return to,
// so, unlike a LET function (whose deepest call is NULL), the statement
// ends: fanning out (`chain(a=X, b=X)`) it would otherwise run for ever.
var ErrRecursion = errors.New("Stack overflow")

// enter returns the scope in which the definition called name runs, one
// level deeper than s. Past MaxDepth it reports the recursion and returns
// nil; a stored query (query true) also stops the statement, a LET
// function's or expression's deepest call is NULL. A cancelled
// statement enters nothing, so that deep or fanned-out recursion unwinds
// at once when the user stops it.
func (s *Scope) enter(ctx context.Context, name string, query bool) *Scope {
	if ctx.Err() != nil {
		return nil
	}
	c := s.Child()
	c.depth++
	c.entered = name
	if c.depth <= MaxDepth {
		return c
	}
	err := fmt.Errorf("%w: %s", ErrRecursion, s.recursionPath(name, query))
	switch {
	case query:
		s.stop(err)
	case s.stmt == nil || s.stmt.overflowed.CompareAndSwap(false, true):
		// Once per statement: a function that calls itself twice would
		// log 2^1000 times.
		s.Errorf("%v", err)
	}
	return nil
}

// recursionPath describes the cycle that led back to name, from the
// definitions entered on the way: "stored query X calls itself (X → X)",
// or "… through B (A → B → A)".
func (s *Scope) recursionPath(name string, query bool) string {
	kind := "LET"
	if query {
		kind = "stored query"
	}
	if name == "" {
		return fmt.Sprintf("queries nested more than %d deep", MaxDepth)
	}
	var path []string
	found := false
	for l := s; l != nil; l = l.parent {
		if l.entered == "" {
			continue
		}
		if l.entered == name {
			found = true
			break
		}
		path = append(path, l.entered)
	}
	if !found {
		return fmt.Sprintf("%s %s is more than %d calls deep", kind, name, MaxDepth)
	}
	slices.Reverse(path)
	cycle := strings.Join(append(append([]string{name}, path...), name), " → ")
	if len(path) == 0 {
		return fmt.Sprintf("%s %s calls itself (%s), more than %d deep", kind, name, cycle, MaxDepth)
	}
	return fmt.Sprintf("%s %s calls itself through %s (%s), more than %d deep", kind, name, strings.Join(path, ", "), cycle, MaxDepth)
}
