package functions_test

import (
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/queuetest"
)

const (
	goodServer = `name: Custom.Good
type: SERVER
export: |
  LET Double(X) = X * 2
sources:
  - query: SELECT Double(X=_value) AS d FROM range(end=2)
`
	badServer = `name: Custom.Bad
type: SERVER
sources:
  - query: |
      SELECT nosuch_function(x=1) AS a
      FROM range(end=2, bogus=1)
`
	clientUsesWMI = `name: Custom.Client.WMI
sources:
  - query: SELECT * FROM wmi(query="SELECT * FROM Win32_Process")
`
	callsLocal = `name: Custom.Caller
type: SERVER
imports:
  - Custom.Good
sources:
  - query: SELECT * FROM Artifact.Custom.Good()
`
)

// TestVerify checks definitions as Server.Utils.ArtifactVerifier does:
// set into a session's repository, then verified there; problems come
// back as text with their line and column in the definition.
func TestVerify(t *testing.T) {
	inst := queuetest.New(t, nil)
	vars := map[string]any{"Good": goodServer, "Bad": badServer, "WMI": clientUsesWMI, "Caller": callsLocal}
	for _, tc := range []struct {
		name, query string
		want        []string
		log         string
	}{
		{"a good definition", `SELECT verify(artifact=Good).Errors AS e, verify(artifact=Good).Warnings AS w FROM scope()`,
			[]string{`{"e":[],"w":[]}`}, ""},
		{"every problem at its place", `SELECT verify(artifact=Bad).Errors AS e FROM scope()`,
			[]string{`{"e":["Custom.Bad:5:14: unknown function nosuch_function","Custom.Bad:6:25: unknown argument bogus of plugin range; its arguments are start, end, step"]}`}, ""},
		{"a client artifact's missing plugins are warnings", `SELECT verify(artifact=WMI).Errors AS e, len(list=verify(artifact=WMI).Warnings) AS w FROM scope()`,
			[]string{`{"e":[],"w":1}`}, ""},
		{"unknown imports and calls", `SELECT verify(artifact=Caller).Errors AS e FROM scope()`,
			[]string{`{"e":["Custom.Caller: line 4: imports unknown artifact Custom.Good","Custom.Caller: calls Artifact.Custom.Good, which is not known"]}`}, ""},
		{"a session repository resolves them", `LET _ <= artifact_set(definition=Good, repository="local")
SELECT verify(artifact=Caller, repository="local").Errors AS e FROM scope()`,
			[]string{`{"e":[]}`}, ""},
		{"by name", `SELECT verify(artifact="Server.Audit.Logs").Errors AS e FROM scope()`, []string{`{"e":[]}`}, ""},
		{"YAML that does not parse", `SELECT verify(artifact="name: [").Errors[0] =~ "^YAML error: " AS e FROM scope()`, []string{`{"e":true}`}, ""},
		{"disable_override", `SELECT verify(artifact="name: Server.Audit.Logs\ntype: SERVER_EVENT\n", disable_override=TRUE).Errors AS e FROM scope()`,
			[]string{`{"e":["Server.Audit.Logs: the definition would replace a built-in artifact"]}`}, ""},
		{"as the verifier artifact uses it", `LET Files = SELECT * FROM foreach(row=[Good, Bad, Caller])
LET Set <= SELECT artifact_set(definition=_value, repository="local") AS Definition FROM Files
SELECT Definition.name AS name, NOT verify(artifact=Definition.name, repository="local").Errors AS passed FROM Set`,
			[]string{`{"name":"Custom.Good","passed":true}`, `{"name":"Custom.Bad","passed":false}`, `{"name":"Custom.Caller","passed":true}`}, ""},
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
}
