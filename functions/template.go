package functions

import (
	"strings"
	"text/template"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Template expands a Go text/template, as Velociraptor's template() does:
// the expansion's members are fields ({{ .Name }}), Get reads a member of
// a value ({{ Get .Dict "Key" }}, empty when absent) and Scope a variable
// of the calling query ({{ Scope "Var" }}).
var Template = fn("template", "The template (Go text/template syntax) expanded with expansion's members; Get and Scope read members and query variables.",
	[]vql.ArgSpec{
		arg("template", vql.TypeString, true, "The template text."),
		arg("expansion", vql.TypeDict, false, "The values the template refers to as .Name."),
	}, func(c call) any {
		text := c.args.String("template", "")
		exp := c.scope.Materialize(c.ctx, c.args.Value("expansion"))
		if c.args.Failed() {
			return nil
		}
		funcs := template.FuncMap{
			"Get": func(item any, field string) any {
				v, _ := value.Member(item, field)
				return templateValue(v)
			},
			"Scope": func(name string) any {
				v, _ := c.scope.Var(c.ctx, name)
				return templateValue(c.scope.Materialize(c.ctx, v))
			},
		}
		t, err := template.New("template").Funcs(funcs).Option("missingkey=zero").Parse(text)
		if err != nil {
			c.scope.Errorf("template: %v", err)
			return nil
		}
		var b strings.Builder
		if err := t.Execute(&b, templateValue(exp)); err != nil {
			c.scope.Errorf("template: %v", err)
			return nil
		}
		return strings.ReplaceAll(b.String(), "<no value>", "")
	})

// templateValue turns dicts into maps (recursively) so that the template
// engine can read their members as fields.
func templateValue(v any) any {
	switch t := v.(type) {
	case *ordereddict.Dict:
		m := make(map[string]any, t.Len())
		for _, item := range t.Items() {
			m[item.Key] = templateValue(item.Value)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = templateValue(e)
		}
		return out
	}
	return v
}
