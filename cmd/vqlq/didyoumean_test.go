package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDidYouMean: every kind of name a user can misspell (keyword,
// function, plugin, artifact, queue, artifact parameter, help topic) gets
// the name meant, and a function used as a plugin (or the reverse) says how it is
// used, from the real command line.
func TestDidYouMean(t *testing.T) {
	tests := []struct {
		name, query string
		code        int
		stderr      string
	}{
		{"keyword", "SELEC * FROM scope()", 2,
			"1:1: unexpected token \"SELEC\" (did you mean SELECT?)\nSELEC * FROM scope()\n^\n"},
		{"keyword after a clause", "SELECT * FROM scope() WHER 1", 2,
			"1:23: unexpected token \"WHER\" (did you mean WHERE?)\nSELECT * FROM scope() WHER 1\n                      ^\n"},
		{"function used as a plugin", "SELECT * FROM format(format='x')", 2,
			"1:15: format is a function, not a plugin: call it in an expression, as in SELECT format(…) AS x FROM scope()\nSELECT * FROM format(format='x')\n              ^\n"},
		{"plugin used as a function", "SELECT range(end=2) FROM scope()", 2,
			"1:8: range is a plugin, not a function: use it after FROM, as in SELECT * FROM range(…), or as a value in a sub-query {SELECT * FROM range(…)}\nSELECT range(end=2) FROM scope()\n       ^\n"},
		{"function", "SELECT fromat(format='x') AS x FROM scope()", 2,
			"1:8: unknown function fromat (did you mean format?)\nSELECT fromat(format='x') AS x FROM scope()\n       ^\n"},
		{"artifact plugin", "SELECT * FROM Artifact.Server.Internal.Alerst()", 1,
			"ERROR:Plugin Artifact.Server.Internal.Alerst not found: no artifact Server.Internal.Alerst (did you mean Server.Internal.Alerts?)\n"},
		{"queue of source()", "SELECT * FROM source(artifact='Server.Internal.Alerst')", 1,
			"ERROR:source: artifact Server.Internal.Alerst not known (did you mean Server.Internal.Alerts?)\n"},
		{"queue of watch_monitoring()", "SELECT * FROM watch_monitoring(artifact='Server.Internal.Alerst')", 1,
			"ERROR:watch_monitoring: artifact Server.Internal.Alerst not known (did you mean Server.Internal.Alerts?)\n"},
		{"queue of send_event()", "SELECT send_event(artifact='Server.Internal.Alerst', row=dict(a=1)) AS s FROM scope()", 1,
			"ERROR:send_event: artifact Server.Internal.Alerst not known (did you mean Server.Internal.Alerts?)\n"},
		{"parameter of an artifact", "SELECT * FROM Artifact.Custom.P(Coutn=2)", 1,
			"ERROR:Artifact.Custom.P: unknown parameter Coutn (did you mean Count?)\n"},
		{"artifact of artifact_definitions()", "SELECT * FROM artifact_definitions(names='Server.Audit.Logz')", 1,
			"ERROR:artifact_definitions: artifact Server.Audit.Logz not known (did you mean Server.Audit.Logs?)\n"},
		{"artifact of collect()", "SELECT collect(artifact='Server.Audit.Logz') AS c FROM scope()", 1,
			"ERROR:collect: artifact Server.Audit.Logz not known (did you mean Server.Audit.Logs?)\n"},
	}
	defs := t.TempDir()
	os.WriteFile(filepath.Join(defs, "p.yaml"), []byte("name: Custom.P\ntype: SERVER\nparameters:\n  - name: Count\nsources:\n  - query: SELECT Count FROM scope()\n"), 0o644)
	for _, tt := range tests {
		r := runVQLQ(t, "", "query", "--format", "jsonl", "--data-dir", filepath.Join(t.TempDir(), "data"), "--definitions", defs, tt.query)
		if r.code != tt.code || r.stderr != tt.stderr {
			t.Errorf("%s: code %d stderr\n%s\nwant code %d stderr\n%s", tt.name, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
	r := runVQLQ(t, "", "help", "rnage")
	if want := "vqlq help: no plugin or function named \"rnage\" (did you mean range?)\n"; r.code != 2 || r.stderr != want {
		t.Errorf("help: code %d stderr %q, want %q", r.code, r.stderr, want)
	}
}
