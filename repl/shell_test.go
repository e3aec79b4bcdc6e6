package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/runner"
)

func newShell(t *testing.T) (*Shell, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	defs := t.TempDir()
	os.WriteFile(filepath.Join(defs, "r.yaml"), []byte("name: Server.Events.Receive\ntype: SERVER_EVENT\n"), 0o644)
	var out, errOut bytes.Buffer
	s := New(Config{Out: &out, Err: &errOut, Format: "jsonl",
		Flags: &runner.StoreFlags{DataDir: t.TempDir(), Definitions: defs, Org: "root", Sync: "flush"}})
	t.Cleanup(s.Close)
	return s, &out, &errOut
}

func feed(s *Shell, lines ...string) []string {
	var entries []string
	for _, l := range lines {
		if e := s.Feed(context.Background(), l); e != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

func TestMultiLineStatements(t *testing.T) {
	s, out, errOut := newShell(t)
	tests := []struct {
		lines   []string
		prompts []string // prompt after each line
		out     string
		history string
	}{
		// Typed over several lines, a statement runs at an empty line or
		// a trailing ;, not as soon as it parses.
		{[]string{"SELECT _value AS v,", "  _value * 2 AS w", "FROM range(end=2)", ""}, []string{" ...> ", " ...> ", " ...> ", "vqlq> "}, "{\"v\":0,\"w\":0}\n{\"v\":1,\"w\":2}\n", "SELECT _value AS v, _value * 2 AS w FROM range(end=2)"},
		{[]string{"SELECT _value AS v", "FROM range(end=5)", "WHERE", "v > 2", ""}, []string{" ...> ", " ...> ", " ...> ", " ...> ", "vqlq> "}, "{\"v\":3}\n{\"v\":4}\n", "SELECT _value AS v FROM range(end=5) WHERE v > 2"},
		{[]string{"SELECT * FROM range(end=1) WHERE", "_value = 0;"}, []string{" ...> ", "vqlq> "}, "{\"_value\":0}\n", "SELECT * FROM range(end=1) WHERE _value = 0;"},
		{[]string{"SELECT 'a", "b;' AS s FROM scope()", ";"}, []string{" ...> ", " ...> ", "vqlq> "}, "{\"s\":\"a\\nb;\"}\n", "SELECT 'a b;' AS s FROM scope() ;"},
		{[]string{"SELECT dict(a={", "SELECT 1 AS x FROM scope()", "}) AS d FROM scope()", ""}, []string{" ...> ", " ...> ", " ...> ", "vqlq> "}, "{\"d\":{\"a\":[{\"x\":1}]}}\n", "SELECT dict(a={ SELECT 1 AS x FROM scope() }) AS d FROM scope()"},
		// On one line, a complete statement runs at once.
		{[]string{"SELECT 2 AS two FROM scope()"}, []string{"vqlq> "}, "{\"two\":2}\n", "SELECT 2 AS two FROM scope()"},
		{[]string{"-- a comment", "SELECT 1 AS one FROM scope()"}, []string{"vqlq> ", "vqlq> "}, "{\"one\":1}\n", "-- a comment"},
	}
	for _, tt := range tests {
		out.Reset()
		var entries []string
		for i, l := range tt.lines {
			entries = append(entries, feed(s, l)...)
			if got := s.Prompt(); got != tt.prompts[i] {
				t.Errorf("%q: prompt after line %d is %q", tt.lines, i, got)
			}
		}
		if out.String() != tt.out {
			t.Errorf("%q: out %q want %q (stderr %q)", tt.lines, out.String(), tt.out, errOut.String())
		}
		if len(entries) == 0 || entries[0] != tt.history {
			t.Errorf("%q: history %q want %q", tt.lines, entries, tt.history)
		}
	}
}

func TestSyntaxErrorReportedAtOnce(t *testing.T) {
	s, out, errOut := newShell(t)
	entries := feed(s, "SELECT * FORM range(end=1)")
	if s.Prompt() != "vqlq> " || out.Len() != 0 {
		t.Fatalf("prompt %q out %q", s.Prompt(), out.String())
	}
	want := "1:10: unexpected token \"FORM\" (did you mean FROM?)\nSELECT * FORM range(end=1)\n         ^\n"
	if errOut.String() != want || len(entries) != 1 || !s.Failed() {
		t.Errorf("stderr %q entries %q", errOut.String(), entries)
	}
}

// TestEmptyLineEndsAnUnfinishedStatement: an empty line after an
// incomplete statement reports what is missing instead of waiting on.
func TestEmptyLineEndsAnUnfinishedStatement(t *testing.T) {
	s, out, errOut := newShell(t)
	entries := feed(s, "SELECT * FROM range(end=3) WHERE", "  _value >", "")
	if s.Prompt() != "vqlq> " || out.Len() != 0 || len(entries) != 1 || !s.Failed() {
		t.Fatalf("prompt %q out %q entries %q", s.Prompt(), out.String(), entries)
	}
	if errOut.String() != "2:11: unexpected end of input (expected an expression)\n  _value >\n          ^\n" {
		t.Errorf("stderr %q", errOut.String())
	}
}

func TestLetsPersistAndLogsGoToStderr(t *testing.T) {
	s, out, errOut := newShell(t)
	feed(s, "LET X = 5", "LET F(a) = a * X", "SELECT F(a=2) AS r FROM scope()", "SELECT * FROM rang(end=1)")
	if out.String() != "{\"r\":10}\n" {
		t.Errorf("out %q", out.String())
	}
	// F and X come from earlier lines; rang is caught before it runs.
	if want := "1:15: unknown plugin rang (did you mean range?)\nSELECT * FROM rang(end=1)\n              ^\n"; errOut.String() != want || !s.Failed() {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
}

func TestDotCommands(t *testing.T) {
	s, out, errOut := newShell(t)
	tests := []struct {
		line, want string
	}{
		{".help", ".load FILE.vql"},
		{".plugins", "range(start, end*, step)\n    Rows {_value: i}"},
		{".functions format", "format(format*, args)\n    Format values like printf"},
		{".artifacts receive", "Server.Events.Receive                         server_event\n"},
		{".queues", `{"name":"Server.Events.Receive","type":"server_event","persisted":true`},
		{".format csv", ""},
		{"SELECT 1 AS a FROM scope()", "a\n1\n"},
		{".timing on", ""},
		{"SELECT 1 AS a FROM scope()", "1 row in "},
		{".org", "root\n"},
	}
	for _, tt := range tests {
		out.Reset()
		feed(s, tt.line)
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%s: got %q want %q (stderr %q)", tt.line, out.String(), tt.want, errOut.String())
		}
	}
	// .org switches the org and keeps the session's LETs.
	feed(s, ".format jsonl", ".timing off", "LET Kept = 1", ".org acme")
	out.Reset()
	feed(s, "SELECT Kept, org().OrgId AS OrgId FROM scope()")
	if out.String() != "{\"Kept\":1,\"OrgId\":\"acme\"}\n" || s.Prompt() != "vqlq(acme)> " {
		t.Errorf("after .org: %q %q", out.String(), s.Prompt())
	}
	// .load runs a script in the session.
	script := filepath.Join(t.TempDir(), "s.vql")
	os.WriteFile(script, []byte("LET Loaded = 7\nSELECT Loaded FROM scope()\n"), 0o644)
	out.Reset()
	feed(s, ".load "+script, "SELECT Loaded + 1 AS n FROM scope()")
	if out.String() != "{\"Loaded\":7}\n{\"n\":8}\n" {
		t.Errorf(".load: %q %q", out.String(), errOut.String())
	}
	errOut.Reset()
	feed(s, ".nope")
	if !strings.Contains(errOut.String(), "unknown command .nope") {
		t.Errorf("unknown: %q", errOut.String())
	}
	feed(s, ".quit")
	if !s.Done() {
		t.Error(".quit did not end the session")
	}
}

func TestCompletion(t *testing.T) {
	s, _, _ := newShell(t)
	feed(s, "LET MyQuery = SELECT 1 FROM scope()")
	tests := []struct {
		line string
		want []string // some of the completions, as full words
	}{
		{"SEL", []string{"SELECT"}},
		{"sel", []string{"select"}},
		{"SELECT * FROM ra", []string{"range"}},
		{"SELECT * FROM My", []string{"MyQuery"}},
		{"SELECT * FROM range(e", []string{"end="}},
		{"SELECT * FROM range(end=3, st", []string{"start=", "step="}},
		{"SELECT form", []string{"format"}},
		{"SELECT * FROM watch_monitoring(artifact='Server.Internal.Al", []string{"Server.Internal.Alerts"}},
		{"SELECT read_file(accessor='pi", []string{"pipe"}},
		{"SELECT read_file(filename=X, accessor = \"da", []string{"data"}},
		{"SELECT * FROM Artifact.Server.Events.Re", []string{"Artifact.Server.Events.Receive"}},
		{"SELECT * FROM scope() WHERE My", []string{"MyQuery"}},
		{".pl", []string{".plugins"}},
	}
	for _, tt := range tests {
		cands, n := s.Complete(tt.line, len(tt.line))
		word := tt.line[len(tt.line)-n:]
		got := map[string]bool{}
		for _, c := range cands {
			got[word+c] = true
		}
		for _, w := range tt.want {
			if !got[w] {
				t.Errorf("%q: completions %v lack %q", tt.line, cands, w)
			}
		}
	}
	if cands, _ := s.Complete("SELECT * FROM ra", len("SELECT * FROM ra")); len(cands) != 1 {
		t.Errorf("after FROM only plugins: %v", cands)
	}
}
