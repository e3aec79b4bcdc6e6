package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// The vocabulary's per-row paths: each benchmark runs one function over
// rows rows and reports ns/row. Rerun with
//
//	go test ./functions -run '^$' -bench . -benchtime 3x
const benchRows = 100000

func benchRowsQuery(b *testing.B, column string) {
	b.ReportAllocs()
	q := `SELECT ` + column + ` AS x FROM range(end=100000)`
	for b.Loop() {
		if n := vqltest.Count(b, q); n != benchRows {
			b.Fatalf("got %d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

func BenchmarkBasename(b *testing.B) {
	benchRowsQuery(b, `basename(path='C:\\Windows\\System32\\' + str(str=_value) + '.dll')`)
}

func BenchmarkGrok(b *testing.B) {
	benchRowsQuery(b, `grok(grok="%{SYSLOGTIMESTAMP:ts} %{SYSLOGHOST:host} %{SYSLOGPROG}: %{GREEDYDATA:msg}", data="Mar  3 10:01:02 web1 sshd[" + str(str=_value) + "]: Accepted publickey for alice")`)
}

func BenchmarkParseStringWithRegex(b *testing.B) {
	benchRowsQuery(b, `parse_string_with_regex(string="user=bob id=" + str(str=_value), regex=["user=(?P<User>\\w+)", "id=(?P<Id>\\d+)"])`)
}

func BenchmarkFilterLambda(b *testing.B) {
	benchRowsQuery(b, `filter(list=[1, 5, 10, _value], condition="x => x > 3")`)
}

func BenchmarkCacheHit(b *testing.B) {
	benchRowsQuery(b, `cache(name="bench", key=_value % 10, func=_value * 2)`)
}

// BenchmarkBaseline is the same query shape with no function: what the
// others' ns/row is compared with.
func BenchmarkBaseline(b *testing.B) {
	benchRowsQuery(b, `'C:\\Windows\\System32\\' + str(str=_value) + '.dll'`)
}

func BenchmarkParseBinary(b *testing.B) {
	benchRowsQuery(b, `parse_binary(accessor="data", filename=`+binData+`, profile=`+binProfile+`, struct="Header").Count`)
}

// BenchmarkPathAdd and BenchmarkSemverCompare are the operator protocols
// of host types (value.Adder, value.Comparer) on every row.
func BenchmarkPathAdd(b *testing.B) {
	benchRowsQuery(b, `pathspec(parse='C:\\Windows\\System32', path_type='windows') + str(str=_value)`)
}

func BenchmarkSemverCompare(b *testing.B) {
	benchRowsQuery(b, `semver(version="1.2." + str(str=_value)) >= "1.2.500"`)
}

// BenchmarkSixArgs is a call with six keyword arguments on every row: the
// cost of preparing arguments (a repeated name takes the last value, so
// each name is looked up among the earlier ones).
func BenchmarkSixArgs(b *testing.B) {
	benchRowsQuery(b, `dict(a=1, b=2, c=3, d=4, e=5, f=_value)`)
}
