package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/sharedfolder"
)

// formatFolder is a definitions folder that uses Velociraptor's format:
// an export imported by another artifact, typed parameters, artifact and
// source preconditions, a NOTEBOOK artifact of notebook cells.
var formatFolder = map[string]string{
	"lib.yaml": `name: Custom.Lib
type: SERVER
export: |
  LET Double(X) = X * 2
  LET Base = SELECT 1 AS n FROM scope()
`,
	"uses.yaml": `name: Custom.Uses
type: SERVER
imports: [Custom.Lib]
export: LET Local = 10
required_permissions: [EXECVE]
parameters:
  - name: Mode
    type: choices
    default: Fast
    choices: [Fast, Slow]
  - name: Rows
    type: csv
    default: |
      Glob,Size
      /tmp/*,5
  - name: Flag
    type: bool
    default: N
  - name: Since
    type: timestamp
    default: 2024-08-12
sources:
  - name: Exported
    query: SELECT Double(X=Local) AS d, n FROM Base
  - name: Gated
    precondition: SELECT * FROM scope() WHERE Flag
    query: SELECT 'ran' AS gated FROM scope()
  - name: Params
    description: the typed parameters
    query: SELECT Mode, Rows, Flag, Since FROM scope()
`,
	"off.yaml": `name: Custom.Off
type: SERVER
precondition: SELECT * FROM scope() WHERE FALSE
sources:
  - query: SELECT 1 AS one FROM scope()
`,
	"two.yaml": `name: Custom.Two
sources:
  - query: |
      LET Leak = 1
      SELECT Leak FROM scope()
  - query: SELECT Leak FROM scope()
`,
	"notebook.yaml": `name: Custom.Notes
type: NOTEBOOK
sources:
  - notebook:
      - type: markdown
        template: "# Notes"
`,
}

// TestVelociraptorFormatRuns: the fields of Velociraptor's format mean
// what they mean there, in a real process: imported and own exports are
// in scope, a false precondition (the source's or the artifact's) skips
// with an INFO line, parameters arrive typed, a choices parameter refuses
// a value not among its choices, and artifact_definitions() shows the
// fields.
func TestVelociraptorFormatRuns(t *testing.T) {
	defs := t.TempDir()
	for name, text := range formatFolder {
		os.WriteFile(filepath.Join(defs, name), []byte(text), 0o644)
	}
	tests := []struct {
		name, query    string
		code           int
		stdout, stderr string
	}{
		{"exports, preconditions and typed parameters", "SELECT * FROM Artifact.Custom.Uses()", 0,
			`{"d":20,"n":1}` + "\n" + `{"Mode":"Fast","Rows":[{"Glob":"/tmp/*","Size":"5"}],"Flag":false,"Since":"2024-08-12T00:00:00Z"}` + "\n",
			"INFO:Artifact.Custom.Uses: precondition is false: source Gated not run\n"},
		{"parameters given as text are converted", "SELECT gated FROM Artifact.Custom.Uses(Flag='Y', Mode='Slow') WHERE gated", 0,
			`{"gated":"ran"}` + "\n", ""},
		{"a value not among the choices", "SELECT * FROM Artifact.Custom.Uses(Mode='Medium')", 1, "",
			`ERROR:Artifact.Custom.Uses: parameter Mode: "Medium" is not one of the choices (Fast, Slow)` + "\n"},
		{"the artifact's precondition", "SELECT * FROM Artifact.Custom.Off()", 0, "",
			"INFO:Artifact.Custom.Off: precondition is false: source not run\n"},
		{"deps lists what an artifact imports", "SELECT name FROM artifact_definitions(names='Custom.Uses', deps=TRUE)", 0,
			`{"name":"Custom.Lib"}` + "\n" + `{"name":"Custom.Uses"}` + "\n", ""},
		{"a source's LETs do not leak into the next", "SELECT * FROM Artifact.Custom.Two()", 1,
			`{"Leak":1}` + "\n" + `{"Leak":null}` + "\n", "ERROR:Symbol Leak not found\n"},
		{"a notebook artifact runs nothing", "SELECT * FROM Artifact.Custom.Notes()", 0, "", ""},
		{"artifact_definitions() shows the fields", "SELECT type, imports, export, required_permissions, parameters[0].choices AS choices, sources[2].description AS d FROM artifact_definitions(names=['Custom.Uses', 'Custom.Notes'])", 0,
			`{"type":"notebook","imports":[],"export":"","required_permissions":[],"choices":null,"d":null}` + "\n" +
				`{"type":"server","imports":["Custom.Lib"],"export":"LET Local = 10","required_permissions":["EXECVE"],"choices":["Fast","Slow"],"d":"the typed parameters"}` + "\n", ""},
	}
	for _, tt := range tests {
		r := runVQLQ(t, "", "query", "--format", "jsonl", "--data-dir", filepath.Join(t.TempDir(), "data"), "--definitions", defs, tt.query)
		if r.code != tt.code || r.stdout != tt.stdout || r.stderr != tt.stderr {
			t.Errorf("%s: code %d stdout %q stderr %q\nwant code %d stdout %q stderr %q", tt.name, r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
}

// TestVelociraptorLibraryWithDefinitions: `--definitions` pointed at
// Velociraptor's artifact library starts, warns for each artifact it
// leaves out and counts them on an INFO line; the library's artifacts are
// listed by artifact_definitions().
func TestVelociraptorLibraryWithDefinitions(t *testing.T) {
	lib, tried, ok := sharedfolder.Velociraptor("artifacts")
	if !ok {
		t.Skipf("shared/velociraptor/artifacts not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", strings.Join(tried, ", "))
	}
	r := runVQLQ(t, "", "query", "--format", "jsonl", "--data-dir", filepath.Join(t.TempDir(), "data"), "--definitions", lib,
		"SELECT name FROM artifact_definitions() WHERE NOT built_in")
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	summary := lines[len(lines)-1]
	warnings := 0
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "WARN:"+lib) || !strings.HasSuffix(l, " is not loaded") {
			t.Errorf("not a warning for one file: %s", l)
		}
		warnings++
	}
	var loaded, files, skipped int
	if _, err := fmt.Sscanf(summary, "INFO:definitions: %d of %d artifacts loaded", &loaded, &files); err != nil || r.code != 0 {
		t.Fatalf("code %d, last line %q: %v", r.code, summary, err)
	}
	if i := strings.Index(summary, "; "); i >= 0 {
		fmt.Sscanf(summary[i+2:], "%d not loaded", &skipped)
	}
	if skipped != warnings || loaded+skipped != files || files < 200 {
		t.Errorf("%d loaded + %d skipped (%d warnings) of %d files", loaded, skipped, warnings, files)
	}
	if n := strings.Count(r.stdout, "\n"); n != loaded {
		t.Errorf("artifact_definitions() lists %d, want the %d loaded", n, loaded)
	}
	t.Log(summary)
}
