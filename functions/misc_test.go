package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestTemplateAndVersions(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"template", `LET ScopeVariable = "I am a scope variable." LET Expansion = dict(Var1="Hi there", Var2=dict(Nested="Nested")) SELECT template(template="Var1:{{ .Var1 }} Nested:{{ Get .Var1 \"Nested\" }}/{{ Get .Var2 \"Nested\" }} Scope:{{ Scope \"ScopeVariable\" }} Missing:{{ .Nope }}.", expansion=Expansion) AS t FROM scope()`,
			`[{"t":"Var1:Hi there Nested:/Nested Scope:I am a scope variable. Missing:."}]`, ""},
		{"template syntax error", `SELECT template(template="{{ .A ") AS t FROM scope()`, `[{"t":null}]`, "template: template:1: unclosed action"},
		{"semver", `SELECT semver(version="v1.2.3-dev") AS a, semver(version="1.1").Version AS b, semver(version="2").Minor AS c, semver(version="1.2.3+build.5").Version AS d, semver(version="") AS e, semver(version="invalid") AS f FROM scope()`,
			`[{"a":{"Major":1,"Minor":2,"Patch":3,"Prerelease":"dev","Version":"1.2.3-dev"},"b":"1.1.0","c":0,"d":"1.2.3","e":null,"f":null}]`, ""},
		{"sigma_log_sources", `LET S <= sigma_log_sources(` + "`process_creation/windows/*`" + `={SELECT 1 AS A FROM scope()}, ` + "`*/linux/auditd`" + `={SELECT 2 AS A FROM scope()}) SELECT S.` + "`process_creation/windows/*`" + `.A AS a, len(list=items(item=S)) AS n FROM scope()`,
			`[{"a":[1],"n":2}]`, ""},
		{"similarity", `SELECT similarity(set1=dict(a=1, b=2), set2=dict(a=1, b=2)) AS same, similarity(set1=dict(a=1, b=2), set2=dict(a=1, b=3, c=4)) AS third, similarity(set1=dict(a=1), set2=dict(b=1)) AS none FROM scope()`,
			`[{"same":1,"third":0.3333333333333333,"none":0}]`, ""},
		{"rate", `SELECT rate(x=_value * 10, y=_value * 2) AS r FROM range(end=3)`, `[{"r":null},{"r":5},{"r":5}]`, ""},
	})
}
