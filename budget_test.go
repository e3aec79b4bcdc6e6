package vqlq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// ORDER BY … LIMIT k gives the first k rows of the full, stable sort:
// ties in input order, NULLs and mixed types where the sort puts them.
func TestOrderByLimitIsTheFullSortCut(t *testing.T) {
	const rows = "SELECT _value AS v, _value % 3 AS k, if(condition=_value % 4 = 0, then=NULL, else=_value % 5) AS n, " +
		"if(condition=_value % 7 = 0, then=str(str=_value), else=_value) AS mixed FROM range(end=40)"
	orders := []string{"k", "k DESC", "n", "n DESC", "mixed", "mixed DESC", "k, n DESC", "k DESC, v", "v % 2, n", "nosuch", "k + 0", "{ SELECT 1 FROM scope() }"}
	for _, order := range orders {
		full, _ := runJSON(t, fmt.Sprintf("SELECT * FROM foreach(row={%s}) ORDER BY %s", rows, order))
		var all []json.RawMessage
		if err := json.Unmarshal([]byte(full), &all); err != nil || len(all) != 40 {
			t.Fatalf("ORDER BY %s: %s (%v)", order, full, err)
		}
		for _, limit := range []int{1, 2, 3, 7, 39, 40, 100} {
			got, logs := runJSON(t, fmt.Sprintf("SELECT * FROM foreach(row={%s}) ORDER BY %s LIMIT %d", rows, order, limit))
			want, _ := json.Marshal(all[:min(limit, len(all))])
			if !sameJSON(t, got, string(want)) {
				t.Errorf("ORDER BY %s LIMIT %d:\n got %s\nwant %s", order, limit, got, want)
			}
			if len(logs) != 0 {
				t.Errorf("ORDER BY %s LIMIT %d: logs %q", order, limit, logs)
			}
		}
	}
}

// Output columns are what ORDER BY sees, with or without LIMIT: a column
// alias, a column computed from another, a plugin member behind `*`.
func TestOrderByLimitSeesTheOutputColumns(t *testing.T) {
	tests := []struct{ query, want string }{
		{"SELECT _value * -1 AS neg FROM range(end=5) ORDER BY neg LIMIT 2", `[{"neg":-4},{"neg":-3}]`},
		{"SELECT _value AS a, a * -1 AS b FROM range(end=5) ORDER BY b LIMIT 1", `[{"a":4,"b":-4}]`},
		{"SELECT *, 1 AS one FROM range(end=5) ORDER BY _value DESC LIMIT 2", `[{"_value":4,"one":1},{"_value":3,"one":1}]`},
		{"SELECT _value + 10 AS _value FROM range(end=5) ORDER BY _value DESC LIMIT 1", `[{"_value":14}]`},
		{"SELECT count() AS c, _value FROM range(end=5) ORDER BY _value DESC LIMIT 2", `[{"c":5,"_value":4},{"c":4,"_value":3}]`},
		// A row that does not make the cut still counts.
		{"SELECT count() AS c, _value FROM range(end=5) ORDER BY if(condition=_value=4, then=-1, else=_value) LIMIT 2", `[{"c":5,"_value":4},{"c":1,"_value":0}]`},
	}
	for _, tt := range tests {
		if got, logs := runJSON(t, tt.query); !sameJSON(t, got, tt.want) || len(logs) != 0 {
			t.Errorf("%s: got %s (logs %q), want %s", tt.query, got, logs, tt.want)
		}
	}
}

// Every row's columns run, kept or not, as with the full sort.
func TestOrderByLimitRunsEveryRowsColumns(t *testing.T) {
	_, logs := runJSON(t, "SELECT log(message='row %v', args=_value, dedup=-1) AS l, _value FROM range(end=5) ORDER BY _value LIMIT 1")
	if strings.Join(logs, "|") != "INFO:row 0|INFO:row 1|INFO:row 2|INFO:row 3|INFO:row 4" {
		t.Errorf("logs %q", logs)
	}
}

// smallBudget is a memory budget that a hundred thousand held rows
// overflow many times over, and a few dozen do not approach.
const smallBudget = 256 << 10

// Whatever holds rows stops at the budget with one error naming it, and
// the statement gives no partial answer; the same queries on a few rows
// run as before. ORDER BY … LIMIT holds only its k rows, so it stays
// within a budget the same sort without LIMIT overflows.
func TestMemoryBudgetStopsWhatHoldsRows(t *testing.T) {
	tests := []struct {
		name, query, small, smallWant, what string
	}{
		{"ORDER BY", "SELECT _value FROM range(end=100000) ORDER BY _value DESC",
			"SELECT _value FROM range(end=3) ORDER BY _value DESC", `[{"_value":2},{"_value":1},{"_value":0}]`, "ORDER BY held"},
		{"GROUP BY", "SELECT count() AS c FROM range(end=100000) GROUP BY _value",
			"SELECT count() AS c FROM range(end=3) GROUP BY _value % 2", `[{"c":2},{"c":1}]`, "GROUP BY held"},
		{"materialized LET", "LET X <= SELECT * FROM range(end=100000) SELECT len(list=X) AS n FROM scope()",
			"LET X <= SELECT * FROM range(end=3) SELECT len(list=X) AS n FROM scope()", `[{"n":3}]`, "LET X <= held"},
		{"materialized LET of an expression", "LET X <= { SELECT * FROM range(end=100000) } SELECT len(list=X) AS n FROM scope()",
			"LET X <= { SELECT * FROM range(end=3) } SELECT len(list=X) AS n FROM scope()", `[{"n":3}]`, "a query read as a value held"},
		{"query read as a value", "SELECT len(list={ SELECT * FROM range(end=100000) } + []) AS n FROM scope()",
			"SELECT len(list={ SELECT * FROM range(end=3) } + []) AS n FROM scope()", `[{"n":3}]`, "a query read as a value held"},
		{"sub-select column", "SELECT { SELECT _value FROM range(end=100000) } AS x FROM scope()",
			"SELECT { SELECT _value FROM range(end=3) } AS x FROM scope()", `[{"x":[0,1,2]}]`, "a { SELECT … } column held"},
		{"enumerate", "SELECT len(list=enumerate(items=_value)) AS n FROM range(end=100000) GROUP BY 1",
			"SELECT len(list=enumerate(items=_value)) AS n FROM range(end=3) GROUP BY 1", `[{"n":3}]`, "enumerate() held"},
	}
	opts := vql.SessionOptions{MaxQueryMemory: smallBudget}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, logs := runJSONWith(t, opts, tt.query)
			if got != "[]" && tt.name != "materialized LET" && tt.name != "materialized LET of an expression" {
				t.Errorf("rows %.200s, want none", got)
			}
			var errs []string
			for _, l := range logs {
				if strings.HasPrefix(l, "ERROR:") {
					errs = append(errs, l)
				}
			}
			want := "ERROR:" + vql.ErrMemoryBudget.Error() + ": " + tt.what
			if len(errs) == 0 || !strings.HasPrefix(errs[0], want) || !strings.Contains(errs[0], "256KiB") {
				t.Errorf("logs %q, want first error starting %q, naming 256KiB", logs, want)
			}
			got, logs = runJSONWith(t, opts, tt.small)
			if !sameJSON(t, got, tt.smallWant) || len(logs) != 0 {
				t.Errorf("%s: got %s (logs %q), want %s", tt.small, got, logs, tt.smallWant)
			}
		})
	}
	got, logs := runJSONWith(t, opts, "SELECT _value FROM range(end=100000) ORDER BY _value DESC LIMIT 3")
	if got != `[{"_value":99999},{"_value":99998},{"_value":99997}]` || len(logs) != 0 {
		t.Errorf("ORDER BY … LIMIT 3 within the budget: %s %q", got, logs)
	}
}

// A LET that outgrows its budget binds nothing: the name keeps its
// earlier value rather than half an answer.
func TestOverBudgetLetBindsNothing(t *testing.T) {
	got, logs := runJSONWith(t, vql.SessionOptions{MaxQueryMemory: smallBudget},
		"LET X <= SELECT * FROM range(end=2) LET X <= SELECT * FROM range(end=100000) SELECT len(list=X) AS n FROM scope()")
	if got != `[{"n":2}]` || len(logs) != 1 {
		t.Errorf("got %s, logs %q", got, logs)
	}
}

// A negative budget is none: the host takes the risk.
func TestNoMemoryBudget(t *testing.T) {
	got, logs := runJSONWith(t, vql.SessionOptions{MaxQueryMemory: -1}, "SELECT count() AS c FROM range(end=20000) GROUP BY _value ORDER BY c LIMIT 1")
	if got != `[{"c":1}]` || len(logs) != 0 {
		t.Errorf("got %s, logs %q", got, logs)
	}
}

// peakHeap runs text in a session and samples the live heap while it
// runs, returning the rows and the highest heap seen above the start.
func peakHeap(t testing.TB, text string) (rows []string, peak uint64) {
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base.HeapAlloc {
				peak = max(peak, m.HeapAlloc-base.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{})
	for r := range s.Run(context.Background(), prog) {
		b, _ := json.Marshal(r.Row)
		rows = append(rows, string(b))
	}
	close(done)
	wg.Wait()
	return rows, peak
}

// The query of issue 9 over two million rows: the heap stays at the few
// megabytes a streaming scan uses, where holding every row for the sort
// would take hundreds.
func TestOrderByLimitHeapStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("sorts 2M rows")
	}
	rows, peak := peakHeap(t, "SELECT _value FROM range(end=2000000) ORDER BY _value DESC LIMIT 1")
	if len(rows) != 1 || rows[0] != `{"_value":1999999}` {
		t.Fatalf("got %v", rows)
	}
	t.Logf("peak heap above the start: %.1f MiB", float64(peak)/(1<<20))
	if peak > 48<<20 {
		t.Errorf("the heap grew by %.1f MiB for a LIMIT 1", float64(peak)/(1<<20))
	}
}

// BenchmarkOrderByLimit is the bounded ORDER BY of BENCHMARKS.md: the
// query of issue 9 over a million rows. Allocations per row stay
// constant, and the peak heap (sampled) does not grow with the rows.
func BenchmarkOrderByLimit(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			q := fmt.Sprintf("SELECT _value FROM range(end=%d) ORDER BY _value DESC LIMIT 1", n)
			var before, after runtime.MemStats
			var peak uint64
			runtime.ReadMemStats(&before)
			for b.Loop() {
				rows, p := peakHeap(b, q)
				if len(rows) != 1 {
					b.Fatalf("got %d rows", len(rows))
				}
				peak = max(peak, p)
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n*b.N), "allocs/row")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/row")
		})
	}
}
