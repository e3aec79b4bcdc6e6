package parser

import (
	"errors"
	"testing"

	"github.com/vqlq/vqlq/vql/source"
)

func TestRoundTrip(t *testing.T) {
	tests := []string{
		"SELECT * FROM test()",
		"SELECT 1 + 1 FROM scope()",
		"SELECT X[2:], X[2:4], X[:2], X[-1], X[-2:] FROM scope()",
		"SELECT Foo[-2], Foo[-X], -X, -`X`, -Bar(X=3), -Float FROM scope()",
		"SELECT if(condition=TRUE, then={ SELECT * FROM test() LIMIT 1  }) FROM scope()",
		"SELECT (1, 2) + (3, 4), dict(foo=X, bar=[1, X]) FROM scope()",
		"LET X(Foo, Bar) = SELECT Foo + Bar FROM scope()",
		"LET F(X=2, Y) = SELECT X + Y AS Total FROM scope()",
		"LET X <= 1 + -2",
		"SELECT * FROM Artifact.Linux.Sys()",
		"SELECT * FROM X ORDER BY `Foo Bar` DESC",
		"SELECT get(member='Foo') || get(member='Bar') || 'Hello' FROM scope()",
		"SELECT 'foo\\'s quote' FROM scope()",
		"SELECT * FROM foreach(row=(1, 1, 8), query={ SELECT _value AS X FROM scope() }) GROUP BY X",
		"SELECT dict(`arg-with-special chars`=TRUE) FROM scope()",
		"SELECT a FROM b WHERE NOT a  AND b OR c",
		"EXPLAIN SELECT * FROM scope()",
		"SELECT 1 - 2, 1 % 2, a <> b FROM scope()",
	}
	for _, q := range tests {
		prog, err := Parse(q, "")
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if got := prog.String(); got != q {
			t.Errorf("round trip\n got %s\nwant %s", got, q)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		text       string
		want       string
		incomplete bool
	}{
		{"SELECT * FORM x", "1:10: unexpected token \"FORM\"", false},
		{"SELECT * FROM x WHERE", "unexpected end of input", true},
		{"SELECT * FROM x(a=(1", "unexpected end of input", true},
		{"SELECT 'abc FROM x", "unterminated string", true},
		{"SELECT * FROM x LIMIT -1", "1:23: unexpected token \"-\"", false},
		{"SELECT a AS b,", "", true},
		{"SELECT a,\n b FROM x WHERE a =", "", true},
		{"SELECT * FROM x WHERE a AND", "", true},
		{"LET X =", "", true},
		{"SELECT * FROM x GROUP", "", true},
		{"SELECT * FROM x WHERE a FORM", "unexpected token \"FORM\"", false},
		{"SELECT * FROM range(end=1", "", true},
	}
	for _, tt := range tests {
		_, err := Parse(tt.text, "")
		var se *source.Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: want a source.Error, got %v", tt.text, err)
		}
		if !contains(err.Error(), tt.want) {
			t.Errorf("%s: got %q want it to contain %q", tt.text, err.Error(), tt.want)
		}
		if se.Incomplete != tt.incomplete {
			t.Errorf("%s: incomplete = %v", tt.text, se.Incomplete)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestKeywordSuggestions: a name where a keyword must come is answered
// with the nearest keyword when it is a small slip (a letter missing,
// added, changed, or two swapped) and the keyword can come there, and with
// what the grammar expected otherwise.
func TestKeywordSuggestions(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"SELEC * FROM scope()", `1:1: unexpected token "SELEC" (did you mean SELECT?)`},
		{"SELECT * FROM scope() WHER 1", `1:23: unexpected token "WHER" (did you mean WHERE?)`},
		{"SELECT * FORM x", `1:10: unexpected token "FORM" (did you mean FROM?)`},
		{"SELECT * FROM x ORDR BY a", `1:17: unexpected token "ORDR" (did you mean ORDER?)`},
		{"SELECT * FROM x GRUOP BY a", `1:17: unexpected token "GRUOP" (did you mean GROUP?)`},
		{"SELECT * FROM x ORDER BYE a", `1:23: unexpected token "BYE" (did you mean BY?)`},
		{"SELECT * FROM x LIMT 1", `1:17: unexpected token "LIMT" (did you mean LIMIT?)`},
		{"SELECT * FROM x WHERE a ADN b", `1:25: unexpected token "ADN" (did you mean AND?)`},
		{"SELECT a ASS b FROM x", `1:10: unexpected token "ASS" (did you mean AS?)`},
		{"EXPLIAN SELECT * FROM x", `1:1: unexpected token "EXPLIAN" (did you mean EXPLAIN?)`},
		{"LTE X = 1", `1:1: unexpected token "LTE" (did you mean LET?)`},
		{"SELECT a b FROM x", `1:10: unexpected token "b" (expected FROM)`},
		{"SELECT * FROM x LIMIT 1 zebra", `1:25: unexpected token "zebra"`},
		{"SELECT * FROM x WHERE a NUL", `1:25: unexpected token "NUL"`},
		// FROM is near, but cannot come there.
		{"SELECT * FROM x WHERE a FORM", `1:25: unexpected token "FORM"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.text, "")
		var se *source.Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: want a source.Error, got %v", tt.text, err)
		}
		if got := se.Pos.String() + ": " + se.Msg; got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.text, got, tt.want)
		}
	}
}
