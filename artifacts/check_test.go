package artifacts

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql/source"
)

// noExports is the exportOf of a repository without other artifacts.
func noExports(string) (string, bool) { return "", false }

// blameTypo is a checker that reports every "rnage" in the VQL at its
// position, the way the engine's check reports an unknown plugin.
func blameTypo(_ *Artifact, _ []string, vql string) error {
	var problems []error
	for line, text := range strings.Split(vql, "\n") {
		if col := strings.Index(text, "rnage"); col >= 0 {
			problems = append(problems, &source.Error{Pos: source.Pos{Line: line + 1, Column: col + 1}, Msg: "unknown plugin rnage", Text: vql})
		}
	}
	return errors.Join(problems...)
}

// TestCheckPositionsAreTheDefinitions: a problem in an artifact's VQL is
// reported at its line and column in the YAML, whatever the scalar style,
// and with the YAML line quoted.
func TestCheckPositionsAreTheDefinitions(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"literal block", "name: Custom.A\ntype: SERVER_EVENT\nsources:\n  - query: |\n      LET X = 1\n      SELECT * FROM rnage(end=1)\n",
			"a.yaml:6:21: unknown plugin rnage\n      SELECT * FROM rnage(end=1)\n                    ^"},
		{"plain scalar", "name: Custom.A\ntype: server\nsources:\n- query: SELECT * FROM rnage(end=1)\n",
			"a.yaml:4:24: unknown plugin rnage\n- query: SELECT * FROM rnage(end=1)\n                       ^"},
		{"quoted scalar", "name: Custom.A\ntype: internal\nsources:\n- query: \"SELECT * FROM rnage(end=1)\"\n",
			"a.yaml:4:25: unknown plugin rnage\n- query: \"SELECT * FROM rnage(end=1)\"\n                        ^"},
		{"precondition and query, both reported", "name: Custom.A\ntype: SERVER\nsources:\n  - precondition: SELECT * FROM rnage()\n    query: |\n\n        SELECT * FROM rnage(end=1)\n",
			"a.yaml:4:33: unknown plugin rnage\n  - precondition: SELECT * FROM rnage()\n                                ^\n" +
				"a.yaml:7:23: unknown plugin rnage\n        SELECT * FROM rnage(end=1)\n                      ^"},
	}
	for _, tt := range tests {
		a, err := Parse([]byte(tt.text), "a.yaml")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		err = checkArtifact(blameTypo, a, "a.yaml", noExports)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got\n%v\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

// TestClientArtifactsAreNotJudged: CLIENT and CLIENT_EVENT queries run on
// clients, with plugins vqlq does not have; they are accepted as written.
func TestClientArtifactsAreNotJudged(t *testing.T) {
	for _, typ := range []string{"", "CLIENT", "client_event"} {
		a, err := Parse([]byte("name: Custom.A\ntype: "+typ+"\nsources:\n- query: SELECT * FROM rnage()\n"), "a.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := checkArtifact(blameTypo, a, "a.yaml", noExports); err != nil {
			t.Errorf("type %q: %v", typ, err)
		}
	}
}

// TestSetRefusesWhatTheCheckerRefuses: nothing is stored when the checker
// finds a problem in a definition given at run time.
func TestSetRefusesWhatTheCheckerRefuses(t *testing.T) {
	storage := NewMemoryStorage()
	r := NewRepository(storage)
	r.SetChecker(blameTypo)
	if _, err := r.Set("root", badDefinition); err == nil || !strings.HasPrefix(err.Error(), "5:21: unknown plugin rnage") {
		t.Errorf("Set: %v", err)
	}
	if _, ok := r.Get("root", "Custom.Bad"); ok {
		t.Error("a refused definition is visible")
	}
	if _, found, _ := storage.Get(storageKey("root", "Custom.Bad")); found {
		t.Error("a refused definition was stored")
	}
}

const badDefinition = "name: Custom.Bad\ntype: SERVER_EVENT\nsources:\n  - query: |\n      SELECT * FROM rnage(end=1)\n      SELECT * FROM rnage(end=2)\n"

// TestLoadDirSkipsWhatTheCheckerRefuses: an artifact of the folder whose
// VQL the checker refuses is left out with its problems, at their file,
// line and column; the rest of the folder loads; naming the artifact
// later says why it is missing, and a near name is offered for a slip.
func TestLoadDirSkipsWhatTheCheckerRefuses(t *testing.T) {
	r := NewRepository(nil)
	r.SetChecker(blameTypo)
	dir := writeTree(t, map[string]string{"good.yaml": "name: Custom.Good\ntype: SERVER\n", "sub/bad.yaml": badDefinition})
	report, err := r.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	skipped := report.Skipped
	bad := filepath.Join(dir, "sub", "bad.yaml")
	want := bad + ":5:21: unknown plugin rnage; " + bad + ":6:21: unknown plugin rnage; artifact Custom.Bad is not loaded"
	if len(skipped) != 1 || skipped[0].Error() != want || skipped[0].Name != "Custom.Bad" || skipped[0].File != bad {
		t.Fatalf("skipped = %v, want one: %s", skipped, want)
	}
	if got := r.NotLoaded(); len(got) != 1 || got[0] != skipped[0] {
		t.Errorf("NotLoaded() = %v", got)
	}
	if _, ok := r.Get("root", "Custom.Good"); !ok {
		t.Error("the good artifact of the folder is not loaded")
	}
	if _, ok := r.Get("O1", "Custom.Bad"); ok {
		t.Error("the refused artifact is visible")
	}
	tests := []struct{ name, want string }{
		{"Custom.Bad", ": " + want},
		{"Custom.Goo", " (did you mean Custom.Good?)"},
		{"Server.Audit.Logz", " (did you mean Server.Audit.Logs?)"},
		{"Custom.Unrelated.Name", ""},
	}
	for _, tt := range tests {
		if got := r.Missing("O1", tt.name); got != tt.want {
			t.Errorf("Missing(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCheckSeesExports: each VQL text of an artifact is checked with the
// exports that run before it (the imported artifacts', then its own); an
// import that names no artifact is a problem at the imports line, and
// leaves the artifact out of the folder.
func TestCheckSeesExports(t *testing.T) {
	var calls []string
	record := func(_ *Artifact, prelude []string, vql string) error {
		calls = append(calls, strings.Join(prelude, " + ")+" => "+vql)
		return nil
	}
	r := NewRepository(nil)
	r.SetChecker(record)
	dir := writeTree(t, map[string]string{
		"lib.yaml":  "name: Custom.Lib\nexport: LET A = 1\n",
		"uses.yaml": "name: Custom.Uses\ntype: SERVER\nimports: [Custom.Lib]\nexport: LET B = A\nprecondition: SELECT B FROM scope()\nsources:\n  - query: SELECT A, B FROM scope()\n",
		"lost.yaml": "name: Custom.Lost\ntype: SERVER\n\nimports: [Custom.Nowhere]\nsources:\n  - query: SELECT 1 FROM scope()\n",
	})
	report, err := r.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Custom.Lib is a CLIENT artifact: not judged.
		" => SELECT 1 FROM scope()",
		"LET A = 1 => LET B = A",
		"LET A = 1 + LET B = A => SELECT B FROM scope()",
		"LET A = 1 + LET B = A => SELECT A, B FROM scope()",
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("checked\n%q\nwant\n%q", calls, want)
	}
	lost := filepath.Join(dir, "lost.yaml")
	if len(report.Skipped) != 1 || report.Skipped[0].Error() != lost+":4: imports unknown artifact Custom.Nowhere; artifact Custom.Lost is not loaded" {
		t.Errorf("skipped %v", report.Skipped)
	}
	a, ok := r.Get("root", "Custom.Uses")
	if !ok || !reflect.DeepEqual(a.Imported, []Import{{Name: "Custom.Lib", Export: "LET A = 1", Found: true}}) {
		t.Errorf("Get resolves imports: %+v", a)
	}
}
