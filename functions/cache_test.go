package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestCaches(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"cache evaluates func once per key",
			`LET Calls <= dict(n=0) LET Cache(X) = cache(name="M", func=set(item=Calls, field="n", value=Calls.n + 1) && (X + 5), key=X, period=999999, max_size=100) SELECT Cache(X=5) AS C5, Cache(X=5) AS C5_2, Cache(X=10) AS C10, Calls.n AS N FROM scope()`,
			`[{"C5":10,"C5_2":10,"C10":15,"N":2}]`, ""},
		{"cache lambda set once, used by later calls",
			`LET _ <= cache(name="Once", lambda="x => x * 2") SELECT cache(name="Once", key=5) AS a, cache(name="Once", key=7) AS b FROM scope()`,
			`[{"a":10,"b":14}]`, ""},
		{"caches are per name", `SELECT cache(name="A", key=1, func="a") AS a, cache(name="B", key=1, func="b") AS b, cache(name="A", key=1, func="c") AS a2 FROM scope()`,
			`[{"a":"a","b":"b","a2":"a"}]`, ""},
		{"cache without a way to compute", `SELECT cache(name="Empty", key=1) AS a FROM scope()`, `[{"a":null}]`, `cache: cache "Empty" has no lambda and the call gives no func`},
		{"max_size evicts the least recently used",
			`LET Calls <= dict(n=0) LET C(X) = cache(name="Small", max_size=2, key=X, func=set(item=Calls, field="n", value=Calls.n + 1) && X) SELECT C(X=1) AS a, C(X=2) AS b, C(X=1) AS c, C(X=3) AS d, C(X=1) AS e, C(X=2) AS f, Calls.n AS n FROM scope()`,
			`[{"a":1,"b":2,"c":1,"d":3,"e":1,"f":2,"n":4}]`, ""},
		{"lru with set and get", `LET L <= lru(size=2) LET _ <= set(item=L, field="a", value=1) && set(item=L, field="b", value=2) && set(item=L, field="c", value=3) SELECT L.a AS a, L.b AS b, get(item=L, field="c") AS c, L FROM scope()`,
			`[{"a":null,"b":2,"c":3,"L":{"b":2,"c":3}}]`, ""},
		{"memoize indexes rows by key", `LET M <= memoize(query={SELECT _value AS Pid, format(format="p%d", args=_value) AS Name FROM range(start=1, end=4)}, key="Pid") SELECT M[2].Name AS a, get(item=M, field="3").Name AS b, M[9] AS c FROM scope()`,
			`[{"a":"p2","b":"p3","c":null}]`, ""},
		{"named memoize runs its query once per session",
			`LET Calls <= dict(n=0) LET M = memoize(name="N", key="K", query={SELECT set(item=Calls, field="n", value=Calls.n + 1).n AS K FROM scope()}) SELECT M["1"].K AS a, M["1"].K AS b, Calls.n AS n FROM scope()`,
			`[{"a":1,"b":1,"n":1}]`, ""},
	})
}
