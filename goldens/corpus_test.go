package goldens

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/conformance"
)

func TestParseOutputs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
		err  string
	}{
		{"one query, no rows", "Query: LET X = 1\nOutput: []\n\n", []string{`[]`}, ""},
		{"rows over lines, comments between",
			"# a comment\nQuery: SELECT 1 AS A\nFROM scope()\n\nOutput: [\n {\n  \"A\": 1\n }\n]\n\n# next\nQuery: SELECT 2 AS B FROM scope()\nOutput: [\n {\n  \"B\": 2\n }\n]\n",
			[]string{`[{"A":1}]`, `[{"B":2}]`}, ""},
		{"a query text that holds the mark's words", "Query: SELECT 'Output: [' AS x FROM scope()\nOutput: [\n {\n  \"x\": \"Output: [\"\n }\n]\n",
			[]string{`[{"x":"Output: ["}]`}, ""},
		{"the first line is a mark", "Output: [1]\n", []string{`[1]`}, ""},
		{"broken JSON names the output", "Query: A\nOutput: []\nQuery: B\nOutput: [\n {\n", nil, "output 2"},
	}
	for _, tt := range tests {
		got, err := ParseOutputs([]byte(tt.text))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("%s: %d outputs, %v; want %d", tt.name, len(got), err, len(tt.want))
			continue
		}
		for i := range got {
			if !conformance.SameJSON(got[i], []byte(tt.want[i])) {
				t.Errorf("%s: output %d is %s, want %s", tt.name, i+1, got[i], tt.want[i])
			}
		}
	}
}

func TestLoadFileCountsMustAgree(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.in.yaml"), filepath.Join(dir, "x.out.yaml")
	os.WriteFile(in, []byte("Parameters:\n  P: v\nQueries:\n  - SELECT P FROM scope()\n  - |\n    SELECT 1 AS A\n    FROM scope()\n"), 0o644)
	os.WriteFile(out, []byte("Query: SELECT P FROM scope()\nOutput: [\n {\n  \"P\": \"v\"\n }\n]\n\n"), 0o644)
	if _, err := LoadFile(in, out); err == nil || !strings.Contains(err.Error(), "1 outputs for the 2 queries") {
		t.Errorf("a missing output: %v", err)
	}
	os.WriteFile(out, []byte("Query: SELECT P FROM scope()\nOutput: [{\"P\": \"v\"}]\nQuery: SELECT 1 AS A\nFROM scope()\nOutput: [{\"A\": 1}]\n"), 0o644)
	f, err := LoadFile(in, out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "x" || f.Parameters["P"] != "v" || len(f.Queries) != 2 || f.Queries[1].Text != "SELECT 1 AS A\nFROM scope()\n" || f.ID(1) != "x/002" {
		t.Errorf("loaded %+v", f)
	}
}

func TestQualifiesAndReplay(t *testing.T) {
	fx := NewFixture(t.TempDir(), map[string]string{"P": "v"})
	defer fx.Close()
	tests := []struct {
		name    string
		queries []string
		ok      bool
		why     string
	}{
		{"known vocabulary, LETs and parameters", []string{"LET F(x) = x + 1", "SELECT F(x=1), P FROM scope()", "SELECT * FROM test_read_logs()"}, true, ""},
		{"a missing plugin and function", []string{"SELECT nosuchfn() FROM nosuchplugin()"}, false, "vqlq lacks nosuchfn, nosuchplugin"},
		{"a function used as a plugin", []string{"SELECT * FROM upcase(string='x')"}, false, "vqlq lacks upcase"},
		{"the repository's test files", []string{"SELECT * FROM parse_csv(filename=srcDir + '/x.csv')"}, false, "srcDir"},
		{"an unknown argument still qualifies", []string{"SELECT upcase(strin='x') FROM scope()"}, true, ""},
	}
	for _, tt := range tests {
		f := &File{Name: "t", Parameters: map[string]string{"P": "v"}}
		for _, q := range tt.queries {
			f.Queries = append(f.Queries, Query{Text: q})
		}
		ok, why := Qualifies(f, fx.Engine())
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("%s: qualifies %v (%s), want %v (%s)", tt.name, ok, why, tt.ok, tt.why)
		}
	}
	f := &File{Name: "t", Queries: []Query{
		{Text: "SELECT P, 1 + 1 AS Two FROM scope()", Expected: []byte(`[{"P": "v", "Two": 2.0}]`)},
		{Text: "SELECT 1 AS B, 2 AS A FROM scope()", Expected: []byte(`[{"A": 2, "B": 1}]`)},
		{Text: "SELECT Log FROM test_read_logs() WHERE Log =~ 'Running query' AND NOT Log =~ 'test_read_logs'", Expected: []byte(`[{"Log": "Velociraptor: Running query SELECT P, 1 + 1 AS Two FROM scope()\n"}, {"Log": "Velociraptor: Running query SELECT 1 AS B, 2 AS A FROM scope()\n"}]`)},
		{Text: "SELECT FROM", Expected: []byte(`[]`)},
	}}
	got := Replay(f, fx)
	want := []string{"", "expected: [{\"A\":2,\"B\":1}]", "", "parse error"}
	for i := range want {
		if (want[i] == "") != (got[i] == "") || !strings.Contains(got[i], want[i]) {
			t.Errorf("query %d: %q, want %q", i+1, got[i], want[i])
		}
	}
}
