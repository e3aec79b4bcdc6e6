package functions_test

import (
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/queuetest"
)

const customProbe = `name: Custom.Probe
type: SERVER
parameters:
  - name: Count
    default: "3"
sources:
  - query: SELECT Count AS L FROM scope()
`

// TestArtifactSetTagsPrefixRepository sets artifacts in a real data
// folder with each of artifact_set's extra arguments and reads back what
// artifact_definitions shows, before and after a restart.
func TestArtifactSetTagsPrefixRepository(t *testing.T) {
	inst := queuetest.New(t, nil)
	vars := map[string]any{"Def": customProbe}
	for _, tc := range []struct {
		name, query string
		want        []string
		log         string
	}{
		{"tags as a list", `SELECT artifact_set(definition=Def, tags=["exchange", "v1"]).metadata AS md FROM scope()`,
			[]string{`{"md":{"tags":["exchange","v1"]}}`}, ""},
		{"shown by artifact_definitions", `SELECT name, metadata FROM artifact_definitions(names="Custom.Probe")`,
			[]string{`{"name":"Custom.Probe","metadata":{"tags":["exchange","v1"]}}`}, ""},
		{"new tags replace the old", `SELECT artifact_set(definition=Def, tags="v0.75").metadata.tags AS tags FROM scope()`,
			[]string{`{"tags":["v0.75"]}`}, ""},
		{"no tags keeps them", `SELECT artifact_set(definition=Def).metadata.tags AS tags FROM scope()`,
			[]string{`{"tags":["v0.75"]}`}, ""},
		{"prefix renames", `SELECT artifact_set(definition=Def, prefix="v075.", tags="v0.75").name AS name FROM scope()`,
			[]string{`{"name":"v075.Custom.Probe"}`}, ""},
		{"prefix already there", `SELECT artifact_set(definition=regex_replace(source=Def, re="Custom", replace="v075.Custom"), prefix="v075.").name AS name FROM scope()`,
			[]string{`{"name":"v075.Custom.Probe"}`}, ""},
		{"the prefixed artifact runs", `SELECT * FROM Artifact.v075.Custom.Probe(Count="2")`,
			[]string{`{"L":"2"}`}, ""},
		{"repository keeps it out of the org's", `SELECT artifact_set(definition=regex_replace(source=Def, re="Probe", replace="Local"), repository="local").name AS name FROM scope()`,
			[]string{`{"name":"Custom.Local"}`}, "added Custom.Local to repository 'local'"},
		{"not in the org", `SELECT name FROM artifact_definitions() WHERE name =~ "Custom.Local"`, nil, ""},
		{"bad tags", `SELECT artifact_set(definition=Def, tags=dict(a=1)) AS r FROM scope()`, []string{`{"r":null}`}, "tags"},
		{"bad definition in a repository", `SELECT artifact_set(definition="name: [", repository="local") AS r FROM scope()`, []string{`{"r":null}`}, "artifact_set:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, logs := runQueueVQL(t, inst.M, vars, tc.query)
			if strings.Join(rows, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s\n got: %v\nwant: %v\nlogs: %q", tc.query, rows, tc.want, logs)
			}
			if tc.log != "" && !strings.Contains(strings.Join(logs, "\n"), tc.log) {
				t.Errorf("no log holds %q: %q", tc.log, logs)
			}
		})
	}
	inst.Restart()
	rows, logs := runQueueVQL(t, inst.M, nil, `SELECT name, metadata.tags AS tags FROM artifact_definitions() WHERE name =~ "Probe"`)
	if got := strings.Join(rows, "\n"); got != `{"name":"Custom.Probe","tags":["v0.75"]}`+"\n"+`{"name":"v075.Custom.Probe","tags":["v0.75"]}` {
		t.Errorf("after a restart: %s (%q)", got, logs)
	}
	// Deleting the artifact forgets its tags.
	runQueueVQL(t, inst.M, nil, `SELECT artifact_delete(name="Custom.Probe") FROM scope()`)
	rows, _ = runQueueVQL(t, inst.M, vars, `SELECT artifact_set(definition=Def).metadata AS md FROM scope()`)
	if got := strings.Join(rows, ""); got != `{"md":null}` {
		t.Errorf("set again after delete: %s", got)
	}
}
