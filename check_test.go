package vqlq_test

import (
	"errors"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// TestCheckReportsEveryProblem: each unknown plugin, function or argument
// name, each function used as a plugin (and the reverse), and each missing
// required argument, is reported, in the order of the text, with its position and the
// quoted line.
func TestCheckReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown plugin", "SELECT * FROM rnage(end=3)",
			"1:15: unknown plugin rnage (did you mean range?)\nSELECT * FROM rnage(end=3)\n              ^"},
		{"unknown function", "SELECT upcse(string='a') FROM scope()",
			"1:8: unknown function upcse (did you mean upcase?)\nSELECT upcse(string='a') FROM scope()\n       ^"},
		{"unknown argument of a plugin", "SELECT * FROM range(end=3, stpe=1)",
			"1:28: unknown argument stpe of plugin range (did you mean step?); its arguments are start, end, step\nSELECT * FROM range(end=3, stpe=1)\n                           ^"},
		{"unknown argument of a function", "SELECT upcase(str='a') FROM scope()",
			"1:15: unknown argument str of function upcase; its arguments are string\nSELECT upcase(str='a') FROM scope()\n              ^"},
		{"missing required argument", "SELECT * FROM range(step=2)",
			"1:15: missing argument end of plugin range\nSELECT * FROM range(step=2)\n              ^"},
		{"missing required argument of a function", "SELECT upcase() FROM scope()",
			"1:8: missing argument string of function upcase\nSELECT upcase() FROM scope()\n       ^"},
		{"a function used as a plugin", "SELECT * FROM format(format='x')",
			"1:15: format is a function, not a plugin: call it in an expression, as in SELECT format(…) AS x FROM scope()\nSELECT * FROM format(format='x')\n              ^"},
		{"a plugin used as a function", "SELECT range(end=2) FROM scope()",
			"1:8: range is a plugin, not a function: use it after FROM, as in SELECT * FROM range(…), or as a value in a sub-query {SELECT * FROM range(…)}\nSELECT range(end=2) FROM scope()\n       ^"},
		{"no suggestion when nothing is close", "SELECT * FROM zzzzzz()",
			"1:15: unknown plugin zzzzzz\nSELECT * FROM zzzzzz()\n              ^"},
		{"every problem, deep inside, on every line",
			"LET Q = SELECT nofunc() FROM scope()\nSELECT * FROM foreach(row=Q, query={ SELECT * FROM noplugin() })\nWHERE if(condition=TRUE, thn=1)",
			"1:16: unknown function nofunc\nLET Q = SELECT nofunc() FROM scope()\n               ^\n" +
				"2:52: unknown plugin noplugin\nSELECT * FROM foreach(row=Q, query={ SELECT * FROM noplugin() })\n                                                   ^\n" +
				"3:26: unknown argument thn of function if (did you mean then?); its arguments are condition, then, else\nWHERE if(condition=TRUE, thn=1)\n                         ^"},
	}
	e := vqlq.NewQueueEngine(nil)
	for _, tt := range tests {
		prog, err := parser.Parse(tt.text, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		err = e.NewSession(vql.SessionOptions{}).Check(prog)
		var ce *vql.CheckError
		if err == nil || !errors.As(err, &ce) || err.Error() != tt.want {
			t.Errorf("%s: got\n%v\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

// TestCheckAcceptsValidPrograms: names defined by LET (anywhere in the
// program), LET parameters, the session's variables, the engine's
// globals, Artifact.X, plugins and functions with free arguments, and a
// row's column used in FROM inside a sub-query are all fine.
func TestCheckAcceptsValidPrograms(t *testing.T) {
	programs := []string{
		"LET Q = SELECT * FROM range(end=2)\nSELECT * FROM Q",
		"SELECT * FROM Later\nLET Later = SELECT 1 AS x FROM scope()",
		"LET F(a, b=2) = a + b\nSELECT F(a=1) AS y FROM scope()",
		"LET P(rows) = SELECT * FROM rows\nSELECT * FROM P(rows=[1, 2])",
		"LET E = 1\nSELECT E() AS y FROM scope()",
		"SELECT * FROM SessionRows",
		"SELECT * FROM HostGlobal",
		"SELECT * FROM Artifact.Custom.Anything(Param='x')",
		"SELECT dict(anything=1, at_all=2) AS d FROM scope()",
		"SELECT * FROM foreach(row={ SELECT [1, 2] AS list FROM scope() }, query={ SELECT * FROM list })",
		"SELECT { SELECT * FROM _value } AS x FROM range(end=1)",
		"SELECT * FROM chain(a={ SELECT 1 AS x FROM scope() }, b={ SELECT 2 AS x FROM scope() })",
	}
	e := vqlq.NewQueueEngine(nil)
	e.SetVar("HostGlobal", []any{1})
	s := e.NewSession(vql.SessionOptions{})
	s.Scope().Set("SessionRows", []any{1})
	for _, text := range programs {
		prog, err := parser.Parse(text, "")
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if err := s.Check(prog); err != nil {
			t.Errorf("%s: refused:\n%v", text, err)
		}
	}
}

// BenchmarkCheck10 checks BenchmarkParse10's ten-statement program: the
// price every API query pays before it runs.
func BenchmarkCheck10(b *testing.B) {
	prog, err := parser.Parse(parse10, "")
	if err != nil {
		b.Fatal(err)
	}
	s := vqlq.NewQueueEngine(nil).NewSession(vql.SessionOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(prog); err != nil {
			b.Fatal(err)
		}
	}
}
