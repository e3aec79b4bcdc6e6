package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql/source"
)

// FuzzParse checks that no input makes the parser panic, that every error
// is a positioned source.Error, and that the canonical form of a parsed
// program parses again to the same canonical form.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"SELECT * FROM range(end=3)",
		"LET X(a, b=2) = SELECT a + b AS c FROM scope() WHERE c > 1 GROUP BY c ORDER BY c DESC LIMIT 3",
		"SELECT -(1 + 2), - -1, X[1:-1], 'a\\'b', '''raw''', `q w`, (1,), [1, 2] FROM foo.bar(a={ SELECT 1 FROM scope() })",
		"SELECT 1 -- c\n/* d */ FROM x; SELECT NOT a AND b OR c =~ 'x' FROM y",
		"EXPLAIN SELECT count() FROM x GROUP BY 1",
		"SELECT 0x10, 070, 1e3, .5 FROM scope()",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		prog, err := Parse(text, "fuzz.vql")
		if err != nil {
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, not *source.Error: %v", err, err)
			}
			_ = se.Error()
			return
		}
		canon := prog.String()
		again, err := Parse(canon, "")
		if err != nil {
			t.Fatalf("canonical form does not parse:\n%s\n%v", canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form is not stable:\n%s\n%s", canon, again.String())
		}
	})
}

func TestPathologicalInput(t *testing.T) {
	deep := "SELECT " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " FROM scope()"
	if _, err := Parse(deep, ""); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("10,000 parentheses: %v", err)
	}
	big := "SELECT '" + strings.Repeat("x", 1<<20) + "' AS s FROM scope()"
	prog, err := Parse(big, "")
	if err != nil {
		t.Fatalf("1 MB string: %v", err)
	}
	if n := len(prog.String()); n < 1<<20 {
		t.Errorf("1 MB string lost: %d", n)
	}
}

func TestTooManyPrefixes(t *testing.T) {
	_, err := Parse("SELECT "+strings.Repeat("NOT ", 5000)+"1 FROM scope()", "")
	if err == nil || !strings.Contains(err.Error(), "prefix operators") {
		t.Errorf("got %v", err)
	}
}
