package main

import (
	"strings"
	"testing"
)

// TestOutputNeverHidesAValue runs the cases through the binary:
// a value wider than the first rows' column is shown whole, and a column
// that only later rows have is shown, in every format.
func TestOutputNeverHidesAValue(t *testing.T) {
	r := runVQLQ(t, "", "query", "--format", "table", "SELECT if(condition=_value = 120, then=42, else=_value % 10) AS v FROM range(end=125)")
	if r.code != 0 || !strings.Contains(r.stdout, "| 42 |") || strings.Count(r.stdout, "| v ") != 2 || !strings.HasSuffix(r.stdout, "125 rows\n") {
		t.Errorf("table: %+v", r)
	}
	const mixed = "SELECT * FROM foreach(row=[dict(a=1), dict(b=2), dict(a=3, c=4)])"
	wants := map[string]string{
		"csv":   "a\n1\na,b\n,2\na,b,c\n3,,4\n",
		"jsonl": "{\"a\":1}\n{\"b\":2}\n{\"a\":3,\"c\":4}\n",
		"json":  "[{\"a\":1},\n{\"b\":2},\n{\"a\":3,\"c\":4}]\n",
		"table": "" +
			"+---+---+---+\n" +
			"| a | b | c |\n" +
			"+---+---+---+\n" +
			"| 1 |   |   |\n" +
			"|   | 2 |   |\n" +
			"| 3 |   | 4 |\n" +
			"+---+---+---+\n" +
			"3 rows\n",
	}
	for format, want := range wants {
		if r := runVQLQ(t, "", "query", "--format", format, mixed); r.code != 0 || r.stdout != want {
			t.Errorf("%s: %+v, want\n%s", format, r, want)
		}
	}
}
