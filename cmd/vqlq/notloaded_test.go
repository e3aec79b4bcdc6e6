package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// brokenFolder is a definitions folder with one good artifact and one
// that uses a plugin vqlq lacks; it returns the folder and the warning
// every command prints for it.
func brokenFolder(t *testing.T) (dir, warning string) {
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("name: Custom.Good\ntype: SERVER\nsources:\n  - query: SELECT 1 AS one FROM scope()\n"), 0o644)
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("name: Custom.Broken\ntype: SERVER\nsources:\n  - query: |\n      LET X = 1\n      SELECT * FROM rnage(end=2)\n"), 0o644)
	return dir, "WARN:" + broken + ":6:21: unknown plugin rnage (did you mean range?); artifact Custom.Broken is not loaded\n"
}

// brokenSummary is the INFO line that follows brokenFolder's warning.
const brokenSummary = "INFO:definitions: 1 of 2 artifacts loaded; 1 not loaded (1 VQL problems; see the warnings)\n"

// TestDefinitionsFolderSkipsBrokenArtifacts: an artifact of the folder
// whose VQL the check refuses is left out with one warning naming its
// file, line and column; the rest of the folder is usable, and naming the
// broken one says it is not loaded and why; the counts follow the
// warnings. A file that is not valid YAML is one more warning.
func TestDefinitionsFolderSkipsBrokenArtifacts(t *testing.T) {
	defs, warning := brokenFolder(t)
	head := warning + brokenSummary
	script := filepath.Join(t.TempDir(), "two.vql")
	os.WriteFile(script, []byte("SELECT * FROM Artifact.Custom.Good()\nSELECT * FROM Artifact.Custom.Good()\n"), 0o644)
	notLoaded := "ERROR:Plugin Artifact.Custom.Broken not found: no artifact Custom.Broken: " + strings.TrimPrefix(strings.TrimSuffix(warning, "\n"), "WARN:") + "\n"
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		stdout      string
		stderr      string
	}{
		{"the good artifact runs", "", []string{"query", "SELECT * FROM Artifact.Custom.Good()"}, 0, "{\"one\":1}\n", head},
		{"warned once for a script", "", []string{"run", script}, 0, "{\"one\":1}\n{\"one\":1}\n", head},
		{"warned once for piped statements", "SELECT * FROM Artifact.Custom.Good()\nSELECT * FROM Artifact.Custom.Good()\n", nil, 0, "{\"one\":1}\n{\"one\":1}\n", head},
		{"the broken one says why it is missing", "", []string{"query", "SELECT * FROM Artifact.Custom.Broken()"}, 1, "", head + notLoaded},
		{"so does its queue", "", []string{"query", "SELECT * FROM source(artifact='Custom.Broken')"}, 1, "",
			head + "ERROR:source: artifact Custom.Broken not known: " + strings.TrimPrefix(warning, "WARN:")},
	}
	for _, tt := range tests {
		args := append(tt.args, "--format", "jsonl", "--data-dir", filepath.Join(t.TempDir(), "data"), "--definitions", defs)
		r := runVQLQ(t, tt.stdin, args...)
		if r.code != tt.code || r.stdout != tt.stdout || r.stderr != tt.stderr {
			t.Errorf("%s: code %d stdout %q stderr\n%s\nwant code %d stdout %q stderr\n%s", tt.name, r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
		}
	}

	bad := filepath.Join(defs, "bad.yaml")
	os.WriteFile(bad, []byte("name: Custom.Bad\nsources: [\n"), 0o644)
	r := runVQLQ(t, "", "query", "--format", "jsonl", "--data-dir", filepath.Join(t.TempDir(), "data"), "--definitions", defs, "SELECT * FROM Artifact.Custom.Good()")
	want := "WARN:" + bad + ":2: invalid YAML: did not find expected node content; artifact Custom.Bad is not loaded\n" + warning +
		"INFO:definitions: 1 of 3 artifacts loaded; 2 not loaded (1 invalid definition, 1 VQL problems; see the warnings)\n"
	if r.code != 0 || r.stdout != "{\"one\":1}\n" || r.stderr != want {
		t.Errorf("a YAML error: %+v, want stderr\n%s", r, want)
	}
}

// TestServeWarnsOfBrokenArtifacts: vqlq serve says at start which
// artifacts of its folder it left out, serves the others, and a query
// through it that names the broken one says why it is missing.
func TestServeWarnsOfBrokenArtifacts(t *testing.T) {
	defs, warning := brokenFolder(t)
	files := map[string]string{}
	for _, name := range []string{"good.yaml", "broken.yaml"} {
		b, _ := os.ReadFile(filepath.Join(defs, name))
		files[name] = string(b)
	}
	p := startServe(t, files)
	warning = strings.ReplaceAll(warning, defs, p.defs)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.stderr.String(), warning) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := p.stderr.String(); strings.Count(got, warning) != 1 {
		t.Errorf("serve's stderr %q, want the warning %q once", got, warning)
	}
	r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT * FROM Artifact.Custom.Good()")
	if r.code != 0 || r.stdout != "{\"one\":1}\n" {
		t.Errorf("good artifact through the server: %+v", r)
	}
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "SELECT * FROM Artifact.Custom.Broken()")
	if r.code != 1 || !strings.Contains(r.stderr, "no artifact Custom.Broken: "+strings.TrimSpace(strings.TrimPrefix(warning, "WARN:"))) {
		t.Errorf("broken artifact through the server: %+v", r)
	}
}

// TestREPLWarnsOfBrokenArtifactsOnce: at the prompt the warning is shown
// once, at start, not again at each statement.
func TestREPLWarnsOfBrokenArtifactsOnce(t *testing.T) {
	defs, _ := brokenFolder(t)
	s := startTmux(t, "--data-dir", t.TempDir(), "--definitions", defs)
	s.waitFor("vqlq>")
	s.keys("SELECT * FROM Artifact.Custom.Good()", "Enter")
	s.waitFor("| 1 ")
	s.keys("SELECT * FROM Artifact.Custom.Broken()", "Enter")
	sc := s.waitFor("ERROR:Plugin Artifact.Custom.Broken not found")
	if n := strings.Count(sc, "WARN:"); n != 1 || !strings.Contains(sc, "artifact Custom.Broken is not loaded") {
		t.Errorf("%d warnings on the screen:\n%s", n, sc)
	}
}
