package vqlq_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// runJSON runs a program and returns the rows of its last SELECT as JSON,
// and the log messages.
func runJSON(t *testing.T, text string) (string, []string) {
	t.Helper()
	return runJSONWith(t, vql.SessionOptions{}, text)
}

// runJSONWith is runJSON in a session with opts (their OnLog is the
// test's).
func runJSONWith(t *testing.T, opts vql.SessionOptions, text string) (string, []string) {
	t.Helper()
	return vqltest.RowsWith(t, opts, text)
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"subtraction without spaces", "SELECT 1-2 AS a, 5 -1 AS b FROM scope()", `[{"a":-1,"b":4}]`},
		{"unary minus on any operand", "LET X = 3 LET F(a) = a * 2 SELECT -(1 + 2) AS a, -X AS b, -F(a=2) AS c, - -1 AS d, +4 AS e FROM scope()", `[{"a":-3,"b":-3,"c":-4,"d":1,"e":4}]`},
		{"modulo", "SELECT 7 % 3 AS a, -7 % 3 AS b, 7.5 % 2 AS c, 1 % 0 AS d FROM scope()", `[{"a":1,"b":-1,"c":1.5,"d":null}]`},
		{"not equal spellings", "SELECT 1 <> 2 AS a, 1 != 1 AS b FROM scope()", `[{"a":true,"b":false}]`},
		{"brackets anywhere", "SELECT [1, 2] AS a, [1, 2][1] AS b, len(list=[1, 2, 3]) AS c, [] AS d FROM scope()", `[{"a":[1,2],"b":2,"c":3,"d":[]}]`},
		{"a repeated argument takes the last value", "SELECT basename(path='/a/b', path='/c/x') AS a, format(format='%v', args=1, format='<%v>') AS b, dict(k=1, j=2, k=3) AS c FROM scope()", `[{"a":"x","b":"<1>","c":{"k":3,"j":2}}]`},
		{"a negative index wraps around the list", "SELECT [1, 2, 3][-1] AS a, ['a', 'b'][-20] AS b, [1, 2][-3] AS c, [][-1] AS d FROM scope()", `[{"a":3,"b":"a","c":2,"d":null}]`},
		{"trailing comma makes a list", "SELECT (1,) AS a, (1) AS b FROM scope()", `[{"a":[1],"b":1}]`},
		{"AND looser than OR", "SELECT TRUE OR FALSE AND FALSE AS a, FALSE AND FALSE OR TRUE AS b FROM scope()", `[{"a":false,"b":false}]`},
		{"NOT binds tighter than OR", "SELECT NOT TRUE OR TRUE AS a, NOT 1 = 2 AS b FROM scope()", `[{"a":true,"b":true}]`},
		{"value-returning || and &&", "SELECT NULL || 'x' AS a, 2 && 3 AS b, 0 && 3 AS c, '' || 0 AS d FROM scope()", `[{"a":"x","b":3,"c":false,"d":0}]`},
		{"integer and float arithmetic", "SELECT 1 + 2 AS a, 1 + 2.5 AS b, 4 / 2 AS c, 1 / 0 AS d, 'a' + 'b' AS e, (1, 2) + 3 AS f, 1 + NULL AS g FROM scope()", `[{"a":3,"b":3.5,"c":2,"d":null,"e":"ab","f":[1,2,3],"g":null}]`},
		{"IN", "SELECT 2 IN (1, 2) AS a, 'ell' IN 'hello' AS b, 'k' IN dict(k=1) AS c, 3 IN (1, 2) AS d FROM scope()", `[{"a":true,"b":true,"c":true,"d":false}]`},
		{"regex is case-insensitive", "SELECT 'Hello' =~ '^h' AS a, 'Hello' =~ 'x' AS b FROM scope()", `[{"a":true,"b":false}]`},
		{"equality", "SELECT 1 = TRUE AS a, 1 = 1.0 AS b, '1' = 1 AS c, NULL = NULL AS d, (1, 2) = [1, 2] AS e, 'a' < 1 AS f, 'a' > 1 AS g FROM scope()", `[{"a":true,"b":true,"c":false,"d":true,"e":true,"f":false,"g":false}]`},
		{"truthiness of scalars", "SELECT * FROM foreach(row=[FALSE, -1, 0, '', [], 1, 'x', (0,)], query={ SELECT _value AS v FROM scope() WHERE _value })", `[{"v":1},{"v":"x"},{"v":[0]}]`},
		{"truthiness of dicts and NULL", "SELECT if(condition=dict(), then=1, else=0) AS a, if(condition=dict(a=1), then=1, else=0) AS b, if(condition=NULL, then=1, else=0) AS c FROM scope()", `[{"a":0,"b":1,"c":0}]`},
		{"one element in brackets is the element", "SELECT [1] AS a, [1,] AS b FROM scope()", `[{"a":1,"b":[1]}]`},
		{"numbers", "SELECT 0x10 AS a, 070 AS b, 1e3 AS c, .5 AS d FROM scope()", `[{"a":16,"b":56,"c":1000,"d":0.5}]`},
		{"strings", `SELECT 'it\'s' AS a, "tab\there" AS b, '''raw\n''' AS c, "\x41" AS d FROM scope()`, `[{"a":"it's","b":"tab\there","c":"raw\\n","d":"A"}]`},
		{"multi-line raw string", "SELECT '''a\nb''' AS a FROM scope()", `[{"a":"a\nb"}]`},
		{"comments and optional semicolons", "-- one\nLET X = 1; // two\n/* three */ SELECT X FROM scope();", `[{"X":1}]`},
		{"backtick names", "SELECT 1 AS `Desc`, 2 AS `with space` FROM scope()", `[{"Desc":1,"with space":2}]`},
		{"keywords any case", "select 1 as a from scope() where true", `[{"a":1}]`},
		{"ORDER BY several keys", "SELECT * FROM foreach(row=[dict(a=1, b=2), dict(a=2, b=1), dict(a=1, b=1), dict(a=NULL, b=3)]) ORDER BY a DESC, b ASC", `[{"a":2,"b":1},{"a":1,"b":1},{"a":1,"b":2},{"a":null,"b":3}]`},
		{"ORDER BY mixed types", "SELECT * FROM foreach(row=[dict(v='b'), dict(v=2), dict(v=NULL), dict(v=TRUE), dict(v='a'), dict(v=1.5)]) ORDER BY v", `[{"v":null},{"v":true},{"v":1.5},{"v":2},{"v":"a"},{"v":"b"}]`},
		{"ORDER BY is stable", "SELECT * FROM foreach(row=[dict(k=1, i=1), dict(k=0, i=2), dict(k=1, i=3), dict(k=0, i=4)]) ORDER BY k", `[{"k":0,"i":2},{"k":0,"i":4},{"k":1,"i":1},{"k":1,"i":3}]`},
		{"LIMIT 0", "SELECT * FROM range(end=10) LIMIT 0", `[]`},
		{"LIMIT stops an endless plugin", "SELECT Unix > 0 AS ok FROM clock(period=0.01) LIMIT 2", `[{"ok":true},{"ok":true}]`},
		{"range with step", "SELECT _value FROM range(start=10, end=0, step=-4)", `[{"_value":10},{"_value":6},{"_value":2}]`},
		{"WHERE sees aliases and hidden columns", "SELECT _value * 10 AS x FROM range(end=5) WHERE x > 20 AND _value < 4", `[{"x":30}]`},
		{"running aggregates", "SELECT count() AS c, sum(item=_value) AS s FROM range(end=3)", `[{"c":1,"s":0},{"c":2,"s":1},{"c":3,"s":3}]`},
		{"GROUP BY keeps first-appearance order", "SELECT _value % 3 AS k, count() AS n, min(item=_value) AS lo, max(item=_value) AS hi FROM range(end=10) GROUP BY k", `[{"k":0,"n":4,"lo":0,"hi":9},{"k":1,"n":3,"lo":1,"hi":7},{"k":2,"n":3,"lo":2,"hi":8}]`},
		{"enumerate", "SELECT enumerate(items=_value) AS e FROM range(end=3) GROUP BY 1", `[{"e":[0,1,2]}]`},
		{"LET materialised once", "LET X <= SELECT count() AS n FROM range(end=2) SELECT X.n AS a, len(list=X) AS b FROM scope()", `[{"a":[1,2],"b":2}]`},
		{"LET function with default", "LET F(a, b=10) = a + b SELECT F(a=1) AS x, F(a=1, b=2) AS y FROM scope()", `[{"x":11,"y":3}]`},
		{"parameterised stored query", "LET Q(n) = SELECT _value FROM range(end=n) SELECT * FROM Q(n=2)", `[{"_value":0},{"_value":1}]`},
		{"recursion stops", "LET F(x) = F(x=x) SELECT F(x=1) AS r FROM scope()", `[{"r":null}]`},
		{"foreach with column", "SELECT * FROM foreach(row=[dict(a=dict(b=1)), dict(a=dict(b=2))], column='a')", `[{"b":1},{"b":2}]`},
		{"chain in order", "SELECT * FROM chain(a={ SELECT 1 AS x FROM scope() }, b={ SELECT 2 AS x FROM scope() })", `[{"x":1},{"x":2}]`},
		{"chain async runs both", "SELECT * FROM chain(async=TRUE, a={ SELECT 1 AS x FROM scope() }, b={ SELECT 2 AS x FROM scope() }) ORDER BY x", `[{"x":1},{"x":2}]`},
		{"flatten", "SELECT * FROM flatten(query={ SELECT (1, 2) AS a, 'x' AS b FROM scope() })", `[{"a":1,"b":"x"},{"a":2,"b":"x"}]`},
		{"items", "SELECT * FROM items(item=dict(a=1, b=2))", `[{"_key":"a","_value":1},{"_key":"b","_value":2}]`},
		{"if plugin", "SELECT * FROM if(condition=FALSE, then={ SELECT 1 AS x FROM scope() }, else={ SELECT 2 AS x FROM scope() })", `[{"x":2}]`},
		{"string functions", "SELECT upcase(string='a') AS u, lowcase(string='B') AS l, split(string='a,b;c', sep='[,;]') AS s, join(array=['a', 'b'], sep='-') AS j, regex_replace(source='aXbX', re='x', replace='_') AS r FROM scope()", `[{"u":"A","l":"b","s":["a","b","c"],"j":"a-b","r":"a_b_"}]`},
		{"format and str", "SELECT format(format='%v=%03d', args=['n', 7]) AS f, str(str=12) AS s, int(int='42') AS i FROM scope()", `[{"f":"n=007","s":"12","i":42}]`},
		{"encode", "SELECT encode(string='hi', type='hex') AS h, encode(string='hi', type='base64') AS b FROM scope()", `[{"h":"6869","b":"aGk="}]`},
		{"json round trip", `SELECT parse_json(data='{"b":1,"a":[1,2.5]}') AS p, serialize(item=dict(x=1)) AS s FROM scope()`, `[{"p":{"b":1,"a":[1,2.5]},"s":"{\"x\":1}"}]`},
		{"get paths", "SELECT get(item=dict(a=(dict(b=5),)), member='a.0.b') AS a, get(item=dict(), member='x', default=7) AS b, get(item=dict(`a.b`=1), field='a.b') AS c FROM scope()", `[{"a":5,"b":7,"c":1}]`},
		{"timestamp", "SELECT timestamp(epoch=1723428985) AS t, timestamp(epoch=1723428985) < timestamp(epoch=1723428986) AS lt FROM scope()", `[{"t":"2024-08-12T02:16:25Z","lt":true}]`},
		{"if function is lazy", "SELECT if(condition=FALSE, then=sleep(time=100), else='no') AS x FROM scope()", `[{"x":"no"}]`},
		{"array keeps each argument, splicing _", "SELECT array(a=1, b=(2, 3)) AS a, array(_=(2, 3), c=4) AS b FROM scope()", `[{"a":[1,[2,3]],"b":[2,3,4]}]`},
		{"sleep gates WHERE", "SELECT 1 AS x FROM scope() WHERE sleep(time=0.01)", `[{"x":1}]`},
		{"scope function", "LET v = 5 SELECT scope().v AS x FROM scope()", `[{"x":5}]`},
		{"slices", "LET X = (0, 1, 2, 3) SELECT X[1:3] AS a, X[-1] AS b, 'hello'[1:3] AS c FROM scope()", `[{"a":[1,2],"b":3,"c":"el"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, logs := runJSON(t, tt.query)
			if !sameJSON(t, got, tt.want) {
				t.Errorf("%s\n got %s\nwant %s\nlogs %v", tt.query, got, tt.want, logs)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	// Key order matters: compare the compact encodings after a round trip
	// through an order-keeping decoder.
	return normalize(a) == normalize(b)
}

func normalize(s string) string {
	var buf strings.Builder
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			buf.WriteString(v.String())
		case string:
			b, _ := json.Marshal(v)
			buf.Write(b)
		default:
			b, _ := json.Marshal(v)
			buf.Write(b)
		}
		buf.WriteByte(' ')
	}
	return buf.String()
}

func TestRuntimeErrorsAreLoggedAndQueryGoesOn(t *testing.T) {
	tests := []struct {
		query   string
		wantRow string
		wantLog string
	}{
		{"SELECT * FROM rang(end=2)", `[]`, "ERROR:Plugin rang not found. Did you mean range?"},
		{"SELECT * FROM range(end='x')", `[]`, "ERROR:range: Field end should be an int not string"},
		{"SELECT * FROM range()", `[]`, "ERROR:range: Field end is required"},
		{"SELECT formatt(format='x') AS a FROM scope()", `[{"a":null}]`, "ERROR:Function formatt not found. Did you mean format?"},
		{"SELECT * FROM format(format='x')", `[]`, "ERROR:Plugin format not found: format is a function, not a plugin: call it in an expression, as in SELECT format(…) AS x FROM scope()"},
		{"SELECT range(end=2) AS a FROM scope()", `[{"a":null}]`, "ERROR:Function range not found: range is a plugin, not a function: use it after FROM, as in SELECT * FROM range(…), or as a value in a sub-query {SELECT * FROM range(…)}"},
		{"SELECT upcase(strin='x') AS a FROM scope()", `[{"a":null}]`, "ERROR:upcase: Unexpected arg strin"},
		{"SELECT 'a' =~ '(' AS a FROM scope()", `[{"a":false}]`, "invalid regular expression"},
		{"SELECT nosuch AS a FROM scope()", `[{"a":null}]`, "ERROR:Symbol nosuch not found"},
		{"LET F(x) = F(x=x) SELECT F(x=1) AS a FROM scope()", `[{"a":null}]`, "ERROR:Stack overflow"},
	}
	for _, tt := range tests {
		got, logs := runJSON(t, tt.query)
		if !sameJSON(t, got, tt.wantRow) {
			t.Errorf("%s: rows %s, want %s", tt.query, got, tt.wantRow)
		}
		if !strings.Contains(strings.Join(logs, "\n"), tt.wantLog) {
			t.Errorf("%s: logs %q, want one containing %q", tt.query, logs, tt.wantLog)
		}
	}
}

func TestLogDedupIsPerQuery(t *testing.T) {
	_, logs := runJSON(t, "SELECT log(message='hello') FROM range(end=3)")
	if len(logs) != 1 || logs[0] != "INFO:hello" {
		t.Errorf("first query: %v", logs)
	}
	// A new query logs again; dedup=-1 logs every time.
	_, logs = runJSON(t, "SELECT log(message='hello') FROM range(end=1) SELECT log(message='x %v', args=_value, dedup=-1, level='warn') FROM range(end=2)")
	if strings.Join(logs, "|") != "INFO:hello|WARN:x 0|WARN:x 1" {
		t.Errorf("second: %v", logs)
	}
}

func TestUnknownNameInWhereIsQuiet(t *testing.T) {
	got, logs := runJSON(t, "SELECT 1 AS a FROM scope() WHERE NOT nosuch")
	if got != `[{"a":1}]` || len(logs) != 0 {
		t.Errorf("got %s logs %v", got, logs)
	}
}

func TestLimitStreams(t *testing.T) {
	start := time.Now()
	got, _ := runJSON(t, "SELECT * FROM range(end=100000000) LIMIT 5")
	if got != `[{"_value":0},{"_value":1},{"_value":2},{"_value":3},{"_value":4}]` {
		t.Fatalf("got %s", got)
	}
	_ = start // timing is reported by BenchmarkLimitAnswersAtOnce, not asserted
}

func TestCancelStopsEndlessQuery(t *testing.T) {
	prog, _ := parser.Parse("SELECT * FROM clock(period=0.001)", "")
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for range s.Run(ctx, prog) {
		n++
		if n == 3 {
			cancel()
		}
	}
	if n < 3 {
		t.Fatalf("got %d rows", n)
	}
}
