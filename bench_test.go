package vqlq_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// runCount parses and runs text and returns the number of rows.
func runCount(b *testing.B, text string) int {
	b.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		b.Fatal(err)
	}
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{})
	n := 0
	for range s.Run(context.Background(), prog) {
		n++
	}
	return n
}

// BenchmarkScanWhere is the scan benchmark of BENCHMARKS.md: one million
// rows through a WHERE. rows/s is reported per scanned row.
func BenchmarkScanWhere(b *testing.B) {
	const rows = 1_000_000
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if n := runCount(b, "SELECT * FROM range(end=1000000) WHERE _value > 500000"); n != 499999 {
			b.Fatalf("got %d rows", n)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows*b.N), "allocs/row")
}

// BenchmarkLimitAnswersAtOnce: LIMIT stops the plugin, so a query over a
// hundred million rows costs what five rows cost.
func BenchmarkLimitAnswersAtOnce(b *testing.B) {
	for b.Loop() {
		if n := runCount(b, "SELECT * FROM range(end=100000000) LIMIT 5"); n != 5 {
			b.Fatalf("got %d rows", n)
		}
	}
}

// TestScanMemoryFlat streams ten million rows and samples the live heap as
// it goes: rows are not kept, so the heap must stay small.
func TestScanMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 10M rows")
	}
	prog, _ := parser.Parse("SELECT * FROM range(end=10000000) WHERE _value >= 0", "")
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{})
	var peak uint64
	n := 0
	for range s.Run(context.Background(), prog) {
		n++
		if n%500_000 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}
	if n != 10_000_000 {
		t.Fatalf("got %d rows", n)
	}
	t.Logf("peak live heap while streaming 10M rows: %.1f MiB", float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("heap grew to %.1f MiB while streaming", float64(peak)/(1<<20))
	}
}

// BenchmarkGroupBy measures GROUP BY at several sizes; time per row should
// stay flat as N grows (linear total).
func BenchmarkGroupBy(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			q := fmt.Sprintf("SELECT count() FROM range(end=%d) GROUP BY 1", n)
			for b.Loop() {
				if got := runCount(b, q); got != 1 {
					b.Fatalf("got %d rows", got)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/row")
		})
	}
}

// parse10 is a ten-statement program of the common constructs.
var parse10 = strings.Join([]string{
	"LET X = SELECT * FROM range(end=10)",
	"LET F(a, b=2) = a + b * 3",
	"SELECT _value, F(a=_value) AS y FROM X WHERE _value > 2 AND NOT _value = 7",
	"SELECT count() AS c, sum(item=_value) AS s FROM range(end=100) GROUP BY _value % 3",
	"SELECT * FROM foreach(row=X, query={ SELECT _value * 2 AS d FROM scope() }) ORDER BY d DESC LIMIT 3",
	"SELECT format(format='%v-%v', args=[1, 'a']) AS f, upcase(string='x') FROM scope()",
	"LET Y <= (1, 2, 3)",
	"SELECT Y[1:], Y[-1], 'abc' =~ 'B', 2 IN Y FROM scope()",
	"SELECT * FROM chain(a={ SELECT 1 AS x FROM scope() }, b={ SELECT 2 AS x FROM scope() })",
	"SELECT if(condition=TRUE, then='yes', else='no') AS r, dict(a=1, b=[1, 2]) AS d FROM scope()",
}, "\n")

// BenchmarkParse10 parses a ten-statement program.
func BenchmarkParse10(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.Parse(parse10, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSubSelectPerRow runs a `{ SELECT … }` column on every row, so
// the cost of finding a SELECT's plan is paid once per row.
func BenchmarkSubSelectPerRow(b *testing.B) {
	const rows = 10_000
	b.ReportAllocs()
	for b.Loop() {
		if n := runCount(b, "SELECT { SELECT _value AS v FROM scope() } AS s FROM range(end=10000)"); n != rows {
			b.Fatalf("got %d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows*b.N), "ns/row")
}

// BenchmarkRegexWhere matches every row against one pattern: the compiled
// regular expression must be found, not rebuilt, on each row.
func BenchmarkRegexWhere(b *testing.B) {
	const rows = 100_000
	b.ReportAllocs()
	for b.Loop() {
		if n := runCount(b, "SELECT * FROM range(end=100000) WHERE str(str=_value) =~ '^9+$'"); n != 5 {
			b.Fatalf("got %d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows*b.N), "ns/row")
}
