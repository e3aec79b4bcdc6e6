package plugins

import (
	"context"
	"iter"

	"github.com/vqlq/vqlq/vql"
)

// Sample keeps every n-th row of a query (the first, the n+1-th, …), to
// thin out dense data before plotting it.
var Sample = vql.PluginFunc{
	Meta: vql.Info{
		Name: "sample",
		Doc:  "Every n-th row of query, starting with the first.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to sample."},
			{Name: "n", Type: vql.TypeInt, Required: true, Doc: "Keep one row in n (n ≥ 1)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		n := args.Int("n", 1)
		rows, _ := args.Rows("query")
		if args.Failed() {
			return none
		}
		if n < 1 {
			scope.Errorf("sample: n must be at least 1, not %d", n)
			return none
		}
		return func(yield func(vql.Row) bool) {
			var i int64
			for row := range rows {
				if i%n == 0 && !yield(row) {
					return
				}
				i++
			}
		}
	},
}
