package artifacts

import (
	"errors"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql/source"
)

// blameTypo is a checker that reports every "rnage" in the VQL at its
// position, the way the engine's check reports an unknown plugin.
func blameTypo(_ *Artifact, vql string) error {
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
		err = checkArtifact(blameTypo, a, "a.yaml")
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
		if err := checkArtifact(blameTypo, a, "a.yaml"); err != nil {
			t.Errorf("type %q: %v", typ, err)
		}
	}
}

// TestSetAndLoadDirRefuseWhatTheCheckerRefuses: nothing is stored or
// loaded when the checker finds a problem.
func TestSetAndLoadDirRefuseWhatTheCheckerRefuses(t *testing.T) {
	storage := NewMemoryStorage()
	r := NewRepository(storage)
	r.SetChecker(blameTypo)
	bad := "name: Custom.Bad\ntype: SERVER_EVENT\nsources:\n  - query: |\n      SELECT * FROM rnage(end=1)\n"
	if _, err := r.Set("root", bad); err == nil || !strings.HasPrefix(err.Error(), "5:21: unknown plugin rnage") {
		t.Errorf("Set: %v", err)
	}
	if _, ok := r.Get("root", "Custom.Bad"); ok {
		t.Error("a refused definition is visible")
	}
	if _, found, _ := storage.Get(storageKey("root", "Custom.Bad")); found {
		t.Error("a refused definition was stored")
	}
	dir := writeTree(t, map[string]string{"good.yaml": "name: Custom.Good\ntype: SERVER\n", "sub/bad.yaml": bad})
	err := r.LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:5:21: unknown plugin rnage\n      SELECT * FROM rnage(end=1)\n") {
		t.Errorf("LoadDir: %v", err)
	}
	if _, ok := r.Get("root", "Custom.Good"); ok {
		t.Error("LoadDir added definitions although one was refused")
	}
}
