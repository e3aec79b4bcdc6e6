package plugins_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestRowStreams(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"sample", `SELECT _value FROM sample(query={SELECT * FROM range(end=10)}, n=4)`, `[{"_value":0},{"_value":4},{"_value":8}]`, ""},
		{"sample n=0", `SELECT * FROM sample(query={SELECT * FROM range(end=3)}, n=0)`, `[]`, "sample: n must be at least 1, not 0"},
		{"column_filter", `SELECT * FROM column_filter(query={SELECT 1 AS Name, 2 AS _Hidden, 3 AS NameX, 4 AS Other FROM scope()}, include="^Name", exclude="X$")`, `[{"Name":1}]`, ""},
		{"column_filter exclude only", `SELECT * FROM column_filter(query={SELECT 1 AS A, 2 AS _B FROM scope()}, exclude="^_")`, `[{"A":1}]`, ""},
		{"batch", `SELECT rows._value AS v FROM batch(query={SELECT * FROM range(end=7)}, batch_size=3)`, `[{"v":[0,1,2]},{"v":[3,4,5]},{"v":[6]}]`, ""},
		{"batch_func ends a batch when true", `SELECT rows._value AS v FROM batch(query={SELECT * FROM range(end=7)}, batch_func="x=>x[-1]._value IN (1, 4)")`, `[{"v":[0,1]},{"v":[2,3,4]},{"v":[5,6]}]`, ""},
		{"batch_func sees the batch so far", `SELECT rows._value AS v FROM batch(query={SELECT * FROM range(end=5)}, batch_func="x=>len(list=x) >= 2", batch_size=100)`, `[{"v":[0,1]},{"v":[2,3]},{"v":[4]}]`, ""},
		{"timeout yields an incomplete batch while the query is slow", `SELECT rows._value AS v FROM batch(query={SELECT _value, if(condition=_value = 2, then=sleep(ms=1800)) AS s FROM range(end=4)}, batch_size=10, timeout=1)`, `[{"v":[0,1]},{"v":[2,3]}]`, ""},
		{"timeout with nothing slow", `SELECT rows._value AS v FROM batch(query={SELECT * FROM range(end=5)}, batch_size=2, timeout=60)`, `[{"v":[0,1]},{"v":[2,3]},{"v":[4]}]`, ""},
		{"a negative timeout", `SELECT * FROM batch(query={SELECT * FROM range(end=2)}, timeout=-1)`, `[]`, "batch: timeout must be a non-negative number of seconds, not -1"},
		{"batch_func that is no lambda", `SELECT * FROM batch(query={SELECT * FROM range(end=2)}, batch_func="len(list=x)")`, `[]`, "batch: batch_func: lambda"},
		{"for", `SELECT * FROM for(var="X", foreach=["a", "b"], query={SELECT X + "!" AS Y FROM scope()})`, `[{"Y":"a!"},{"Y":"b!"}]`, ""},
		{"for over a query without query", `SELECT * FROM for(var="X", foreach={SELECT * FROM range(end=2)})`, `[{"_value":0},{"_value":1}]`, ""},
		{"combine yields every query's rows", `SELECT count() AS n FROM combine(a={SELECT * FROM range(end=3)}, b={SELECT * FROM range(end=2)}) GROUP BY 1`, `[{"n":5}]`, ""},
		{"delay keeps rows and order", `SELECT _value FROM delay(query={SELECT * FROM range(end=3)}, delay=0.01)`, `[{"_value":0},{"_value":1},{"_value":2}]`, ""},
		{"delay stops with LIMIT", `SELECT 1 AS x FROM delay(query={SELECT * FROM clock(period=0.001)}, delay=0) LIMIT 2`, `[{"x":1},{"x":1}]`, ""},
		{"delay negative", `SELECT * FROM delay(query={SELECT * FROM range(end=1)}, delay=-1)`, `[]`, "delay: delay must be a non-negative number of seconds"},
		{"diff initial marks the first run added", `SELECT * FROM diff(query={SELECT _value AS K FROM range(end=2)}, key="K", initial=TRUE) LIMIT 2`, `[{"K":0,"Diff":"added"},{"K":1,"Diff":"added"}]`, ""},
		// The first run (K 1, 2) is the baseline, as in Velociraptor;
		// each later run adds one key and removes one.
		{"diff between runs",
			`LET Run <= dict(n=0) LET Q = SELECT * FROM foreach(row={SELECT set(item=Run, field="n", value=Run.n + 1).n AS N FROM scope()}, query={SELECT _value AS K FROM range(start=N, end=N + 2)}) SELECT K, Diff FROM diff(query=Q, key="K", period=0.01) LIMIT 4`,
			`[{"K":3,"Diff":"added"},{"K":1,"Diff":"removed"},{"K":4,"Diff":"added"},{"K":2,"Diff":"removed"}]`, ""},
		{"diff leaves out rows without the key",
			`LET Run <= dict(n=0) LET Q = SELECT * FROM foreach(row={SELECT set(item=Run, field="n", value=Run.n + 1).n AS N FROM scope()}, query={SELECT * FROM chain(a={SELECT N AS K FROM scope()}, b={SELECT N AS Other FROM scope()})}) SELECT * FROM diff(query=Q, key="K", period=0.01) LIMIT 2`,
			`[{"K":2,"Diff":"added"},{"K":1,"Diff":"removed"}]`, ""},
		{"fifo keeps the last rows of its query",
			`LET F = SELECT _value FROM fifo(query={SELECT * FROM range(end=5)}, max_rows=3) SELECT * FROM foreach(row={SELECT * FROM clock(period=0.001)}, query={SELECT F._value AS v FROM scope() WHERE F._value[0] = 2}) LIMIT 1`,
			`[{"v":[2,3,4]}]`, ""},
		{"generate shares one run between readers",
			`LET Run <= dict(n=0) LET G <= generate(name="g", query={SELECT set(item=Run, field="n", value=Run.n + 1).n AS N FROM range(end=3)}) LET A <= SELECT N FROM G LET B <= SELECT N FROM G SELECT A.N AS a, B.N AS b, Run.n AS runs FROM scope()`,
			`[{"a":[1,2,3],"b":[1,2,3],"runs":3}]`, ""},
	})
}

func TestSequence(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"correlates rows of several queries",
			`SELECT * FROM sequence(a={SELECT 1 AS A FROM scope()}, b={SELECT 2 AS A FROM scope()}, c={SELECT 3 AS A FROM scope()}, query={SELECT A AS FoundA, {SELECT A FROM SEQUENCE WHERE A = 2} AS FoundB FROM SEQUENCE WHERE A = 1 AND FoundB})`,
			`[{"FoundA":1,"FoundB":2}]`, ""},
		{"a match resets the buffer",
			`SELECT count() AS n FROM sequence(a={SELECT * FROM range(end=4)}, query={SELECT * FROM scope() WHERE len(list=SEQUENCE) = 2}) GROUP BY 1`,
			`[{"n":2}]`, ""},
	})
}

func TestDedup(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"repeated keys are dropped", `SELECT K, V FROM dedup(query={SELECT _value % 3 AS K, _value AS V FROM range(end=7)}, key="K")`,
			`[{"K":0,"V":0},{"K":1,"V":1},{"K":2,"V":2}]`, ""},
		{"a small size forgets", `SELECT K FROM dedup(query={SELECT * FROM foreach(row=["a", "b", "a", "c", "a"], query={SELECT _value AS K FROM scope()})}, key="K", size=1)`,
			`[{"K":"a"},{"K":"b"},{"K":"a"},{"K":"c"},{"K":"a"}]`, ""},
		{"negative timeout", `SELECT * FROM dedup(query={SELECT 1 AS K FROM scope()}, key="K", timeout=-1)`, `[]`, "dedup: timeout must be a non-negative number of seconds"},
	})
}

// TestForeachWorkers: parallel and async foreach run every row's query
// once (the order of their rows is not kept, so the test aggregates).
func TestForeachWorkers(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"workers", `SELECT count() AS N, sum(item=X) AS S FROM foreach(row={SELECT _value AS X FROM range(end=2000)}, query={SELECT X FROM scope()}, workers=4) GROUP BY 1`,
			`[{"N":2000,"S":1999000}]`, ""},
		{"async", `SELECT count() AS N, sum(item=X) AS S FROM foreach(row={SELECT _value AS X FROM range(end=2000)}, query={SELECT X FROM scope()}, async=TRUE) GROUP BY 1`,
			`[{"N":2000,"S":1999000}]`, ""},
		{"async with LIMIT stops", `SELECT count() AS N FROM foreach(row={SELECT * FROM range(end=1000000000)}, query={SELECT 1 AS One FROM scope()}, async=TRUE) LIMIT 1`,
			`[{"N":1}]`, ""},
	})
}
