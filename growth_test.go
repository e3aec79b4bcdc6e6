package vqlq_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/liveheap"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// distinctQueries is how many different queries the growth tests run:
// 100,000, or 20,000 with -short (enough for the old 2 KB-a-query plan
// cache to fail the 10 MB bound four times over).
func distinctQueries() int {
	if testing.Short() {
		return 20_000
	}
	return 100_000
}

// TestDistinctQueriesDoNotGrowTheHeap runs distinctQueries different programs —
// sub-queries, stored queries and regular expressions of their own — on one
// engine, and on one long-lived session: once a program is done nothing of
// it is kept (no plan cache keyed by query, a bounded regex cache).
func TestDistinctQueriesDoNotGrowTheHeap(t *testing.T) {
	n := distinctQueries()
	engine := vqlq.NewEngine()
	shared := engine.NewSession(vql.SessionOptions{})
	run := func(i int) {
		text := fmt.Sprintf("SELECT %d AS n, { SELECT _value FROM range(end=1) } AS s, 'p%d' =~ 'p%d$' AS m FROM scope()", i, i, i)
		if i%2 == 1 {
			text = fmt.Sprintf("LET Q%d = SELECT %d AS n FROM scope()\nSELECT * FROM Q%d", i%10, i, i%10)
		}
		prog, err := parser.Parse(text, "")
		if err != nil {
			t.Fatal(err)
		}
		s := shared
		if i%3 == 0 {
			s = engine.NewSession(vql.SessionOptions{})
		}
		rows := 0
		for range s.Run(context.Background(), prog) {
			rows++
		}
		if rows != 1 {
			t.Fatalf("%s: %d rows", text, rows)
		}
	}
	for i := range 1000 {
		run(-1 - i) // warm up: pools, the regex cache's generations
	}
	before, after := liveheap.Around(func() {
		for i := range n {
			run(i)
		}
	})
	growth := int64(after) - int64(before)
	t.Logf("%d distinct queries: live heap %.1f MiB -> %.1f MiB", n, float64(before)/(1<<20), float64(after)/(1<<20))
	if growth > 10<<20 {
		t.Errorf("the live heap grew by %.1f MiB over %d distinct queries", float64(growth)/(1<<20), n)
	}
}
