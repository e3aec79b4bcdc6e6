package vqlq_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// Every way a stored query can reach itself ends with one error that
// names it, instead of running until the stack or the user gives up.
func TestRecursiveStoredQueriesStopWithAnError(t *testing.T) {
	tests := []struct {
		name, query, wantLog string
	}{
		{"from itself", "LET X = SELECT * FROM X SELECT * FROM X",
			"ERROR:Stack overflow: stored query X calls itself (X → X)"},
		{"mutual", "LET A = SELECT * FROM B LET B = SELECT * FROM A SELECT * FROM A",
			"ERROR:Stack overflow: stored query A calls itself through B (A → B → A)"},
		{"three", "LET A = SELECT * FROM B LET B = SELECT * FROM C LET C = SELECT * FROM A SELECT * FROM B",
			"ERROR:Stack overflow: stored query C calls itself through A, B (C → A → B → C)"},
		{"fanning out", "LET X = SELECT * FROM chain(a=X, b=X) SELECT * FROM X",
			"stored query X calls itself (X → X)"},
		{"as a plugin argument", "LET X = SELECT * FROM foreach(row=X) SELECT * FROM X",
			"stored query X calls itself (X → X)"},
		{"in a column", "LET X = SELECT X AS x FROM scope() SELECT * FROM X",
			"stored query X calls itself (X → X)"},
		{"in WHERE", "LET X = SELECT * FROM scope() WHERE X SELECT * FROM X",
			"stored query X calls itself (X → X)"},
		{"with arguments", "LET F(n) = SELECT * FROM F(n=n+1) SELECT * FROM F(n=1)",
			"stored query F calls itself (F → F)"},
		{"called in an expression", "LET F(n) = SELECT * FROM F(n=n) SELECT F(n=1) AS a FROM scope()",
			"stored query F calls itself (F → F)"},
		{"under GROUP BY", "LET X = SELECT * FROM X LIMIT 1 SELECT count() FROM X GROUP BY 1",
			"stored query X calls itself (X → X)"},
		{"under ORDER BY", "LET X = SELECT * FROM X SELECT * FROM X ORDER BY _value",
			"stored query X calls itself (X → X)"},
		{"materialized", "LET X = SELECT * FROM X LET Y <= SELECT * FROM X SELECT * FROM Y",
			"stored query X calls itself (X → X)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, logs := runJSON(t, tt.query)
			if got != "[]" {
				t.Errorf("rows %s, want none", got)
			}
			var overflows []string
			for _, l := range logs {
				if strings.Contains(l, "Stack overflow") {
					overflows = append(overflows, l)
				}
			}
			if len(overflows) != 1 || !strings.Contains(overflows[0], tt.wantLog) {
				t.Errorf("logs %q, want one error containing %q", logs, tt.wantLog)
			}
		})
	}
}

// A LET function keeps vfilter's answer (its deepest call is NULL and the
// query goes on), but says which function and logs it once per statement,
// even when it calls itself twice at every level.
func TestRecursiveFunctionIsNullAndNamed(t *testing.T) {
	got, logs := runJSON(t, "LET F(x) = F(x=x) SELECT F(x=1) AS a FROM range(end=3)")
	if got != `[{"a":null},{"a":null},{"a":null}]` {
		t.Errorf("rows %s", got)
	}
	if len(logs) != 1 || !strings.HasPrefix(logs[0], "ERROR:Stack overflow: LET F calls itself (F → F)") {
		t.Errorf("logs %q", logs)
	}
}

// Cancelling a statement stops a recursion that would run for ever on its
// own: a LET function calling itself twice at every level.
func TestCancelStopsFanningOutRecursion(t *testing.T) {
	prog, err := parser.Parse("LET F(x) = F(x=x) + F(x=x) SELECT F(x=1) AS a FROM scope()", "")
	if err != nil {
		t.Fatal(err)
	}
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range s.Run(ctx, prog) {
		}
	}()
	time.Sleep(100 * time.Millisecond) // let it get deep into the recursion
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute): // a failure guard, not a timing assertion
		t.Fatal("the query did not stop when cancelled")
	}
}
