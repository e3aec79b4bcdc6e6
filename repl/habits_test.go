package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHabitsOfOtherShells: the commands sqlite3, psql and osqueryi users
// type, each with the exact output it must give.
func TestHabitsOfOtherShells(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.vql")
	os.WriteFile(script, []byte("SELECT 7 AS seven FROM scope()\n"), 0o644)
	tests := []struct {
		name  string
		lines []string
		out   string
	}{
		{"mode is format", []string{".mode csv", "SELECT 1 AS a, 2 AS b FROM scope()"}, "a,b\n1,2\n"},
		{"sqlite's column mode is a table", []string{".mode column", "SELECT 1 AS a FROM scope()"}, "+---+\n| a |\n+---+\n| 1 |\n+---+\n1 row\n"},
		{"headers off in CSV", []string{".mode csv", ".headers off", "SELECT 1 AS a, 2 AS b FROM scope()"}, "1,2\n"},
		{"headers off in a table", []string{".mode table", ".headers off", "SELECT 1 AS a FROM scope()"}, "+---+\n| 1 |\n+---+\n1 row\n"},
		{"expanded display", []string{".mode table", `\x`, "SELECT 1 AS a, 'two' AS bee FROM range(end=2)"},
			"Expanded display is on.\n-[ RECORD 1 ]-\na   | 1\nbee | two\n-[ RECORD 2 ]-\na   | 1\nbee | two\n2 rows\n"},
		{"expanded display toggles off", []string{".mode table", ".x on", `\x`, "SELECT 1 AS a FROM scope()"},
			"Expanded display is on.\nExpanded display is off.\n+---+\n| a |\n+---+\n| 1 |\n+---+\n1 row\n"},
		{"read is load", []string{".mode jsonl", ".read " + script}, "{\"seven\":7}\n"},
		{"psql's include is load", []string{".mode jsonl", `\i ` + script}, "{\"seven\":7}\n"},
		{"help NAME at the prompt", []string{"help sleep"}, "function sleep(time, ms)\n  Wait time seconds, then return TRUE (FALSE if the query was cancelled).\n    time       (float) Seconds to wait.\n    ms         (int) Milliseconds to wait.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, errOut := newShell(t)
			feed(s, tt.lines...)
			if out.String() != tt.out || errOut.Len() != 0 {
				t.Errorf("got %q (stderr %q), want %q", out.String(), errOut.String(), tt.out)
			}
		})
	}
}

// TestTimingPrintsTheRowCountOnce: a table already ends with its count, so
// timing adds only the time; other formats get count and time.
func TestTimingPrintsTheRowCountOnce(t *testing.T) {
	for _, tt := range []struct{ format, count string }{{"table", "2 rows\n"}, {"jsonl", "2 rows in "}} {
		s, out, _ := newShell(t)
		feed(s, ".mode "+tt.format, `\timing`, "SELECT * FROM range(end=2)")
		if !strings.HasPrefix(out.String(), "Timing is on.\n") || strings.Count(out.String(), " rows") != 1 || !strings.Contains(out.String(), tt.count) {
			t.Errorf("%s: %q", tt.format, out.String())
		}
		if tt.format == "table" && !strings.Contains(out.String(), "2 rows\nTime: ") {
			t.Errorf("%s: %q", tt.format, out.String())
		}
	}
}

// TestOutputAndOnce: .output sends results to a file until .output alone;
// .once only the next statement's.
func TestOutputAndOnce(t *testing.T) {
	dir := t.TempDir()
	all, one := filepath.Join(dir, "all.jsonl"), filepath.Join(dir, "one.jsonl")
	s, out, errOut := newShell(t)
	feed(s, ".output "+all, "SELECT 1 AS a FROM scope()", "SELECT 2 AS a FROM scope()", ".output",
		"SELECT 3 AS a FROM scope()", ".once "+one, "SELECT 4 AS a FROM scope()", "SELECT 5 AS a FROM scope()")
	if out.String() != "{\"a\":3}\n{\"a\":5}\n" || errOut.Len() != 0 {
		t.Errorf("terminal got %q (stderr %q)", out.String(), errOut.String())
	}
	for file, want := range map[string]string{all: "{\"a\":1}\n{\"a\":2}\n", one: "{\"a\":4}\n"} {
		if b, _ := os.ReadFile(file); string(b) != want {
			t.Errorf("%s: %q, want %q", filepath.Base(file), b, want)
		}
	}
	feed(s, ".once "+filepath.Join(dir, "no-such-folder", "x"), "SELECT 6 AS a FROM scope()")
	if !strings.Contains(errOut.String(), ".once: open ") || strings.Contains(out.String(), "6") {
		t.Errorf("unwritable .once: out %q stderr %q", out.String(), errOut.String())
	}
}

// TestPagerTakesOnlyLongResults: on a terminal, output longer than the
// screen goes through $PAGER; shorter output is printed directly.
func TestPagerTakesOnlyLongResults(t *testing.T) {
	paged := filepath.Join(t.TempDir(), "paged")
	t.Setenv("PAGER", "cat > "+paged)
	s, out, _ := newShell(t)
	s.height = func() int { return 10 }
	feed(s, ".mode table", "SELECT * FROM range(end=3)")
	if !strings.Contains(out.String(), "| 2      |\n") {
		t.Errorf("short result: %q", out.String())
	}
	out.Reset()
	feed(s, "SELECT * FROM range(end=50)")
	b, _ := os.ReadFile(paged)
	if out.Len() != 0 || !strings.HasPrefix(string(b), "+--------+\n| _value |\n") || !strings.HasSuffix(string(b), "| 49     |\n+--------+\n50 rows\n") {
		t.Errorf("long result: terminal %q, pager %q", out.String(), b)
	}
	os.Remove(paged)
	feed(s, ".pager off", "SELECT * FROM range(end=50)")
	if _, err := os.Stat(paged); err == nil || !strings.Contains(out.String(), "50 rows\n") {
		t.Errorf(".pager off: pager ran (%v) or terminal lacks the rows", err)
	}
}

// TestMissingPagerPrintsDirectly: a $PAGER that is not installed does not
// swallow the results.
func TestMissingPagerPrintsDirectly(t *testing.T) {
	t.Setenv("PAGER", "no-such-pager-vqlq -S")
	s, out, _ := newShell(t)
	s.height = func() int { return 10 }
	feed(s, ".mode table", "SELECT * FROM range(end=50)")
	if !strings.HasSuffix(out.String(), "| 49     |\n+--------+\n50 rows\n") {
		t.Errorf("terminal got %q", out.String())
	}
}

func TestFileNamesComplete(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hunt.vql"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "huntlib"), 0o755)
	s, _, _ := newShell(t)
	for _, cmd := range []string{".load", ".read", ".output", ".once"} {
		line := cmd + " " + filepath.Join(dir, "hu")
		got, n := s.Complete(line, len(line))
		if strings.Join(got, " ") != "nt.vql ntlib/" || n != 2 {
			t.Errorf("%s: %q %d", cmd, got, n)
		}
	}
}
