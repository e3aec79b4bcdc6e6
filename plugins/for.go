package plugins

import (
	"context"
	"iter"

	"github.com/vqlq/vqlq/vql"
)

// For is the older spelling of foreach over values: query runs once per
// element of foreach with the element bound to the variable var.
var For = vql.PluginFunc{
	Meta: vql.Info{
		Name: "for",
		Doc:  "Run query once per element of foreach, with the element bound to the variable named var.",
		Args: []vql.ArgSpec{
			{Name: "var", Type: vql.TypeString, Required: true, Doc: "The variable the element is bound to."},
			{Name: "foreach", Type: vql.TypeQuery, Required: true, Doc: "The elements: a list or a query."},
			{Name: "query", Type: vql.TypeQuery, Doc: "Run for each element (default: yield the element)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		name := args.String("var", "")
		elems, _ := args.Rows("foreach")
		query, hasQuery := args.Get("query")
		if args.Failed() {
			return none
		}
		return func(yield func(vql.Row) bool) {
			for e := range elems {
				if !hasQuery {
					if !yield(e) {
						return
					}
					continue
				}
				inner := scope.WithVars(map[string]any{name: e})
				for row := range inner.RowsOf(ctx, query) {
					if !yield(row) {
						return
					}
				}
			}
		}
	},
}
