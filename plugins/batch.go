package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Batch groups the rows of a query into rows {rows: [...]} of batch_size
// rows each (the last may be shorter), to hand many rows to one call
// such as an API upload.
var Batch = vql.PluginFunc{
	Meta: vql.Info{
		Name: "batch",
		Doc:  "Rows {rows: [...]} each holding up to batch_size consecutive rows of query.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to batch."},
			{Name: "batch_size", Type: vql.TypeInt, Doc: "Rows per batch (default 10)."},
			{Name: "batch_func", Type: vql.TypeString, Doc: "A lambda called with the batch so far (a list of rows) after each row, as in x=>len(list=x) >= 10: the batch is yielded when it is true (batch_size then does not apply)."},
			{Name: "timeout", Type: vql.TypeInt, Doc: "Accepted for compatibility; an incomplete batch is yielded when the query ends."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		size := args.Int("batch_size", 10)
		rows, _ := args.Rows("query")
		ready, hasFunc := vql.LambdaArg(scope, args, "batch", "batch_func")
		if args.Failed() || (args.Has("batch_func") && !hasFunc) {
			return none
		}
		if size < 1 {
			scope.Errorf("batch: batch_size must be at least 1, not %d", size)
			return none
		}
		return func(yield func(vql.Row) bool) {
			var cur []any
			for row := range rows {
				cur = append(cur, row)
				full := int64(len(cur)) >= size
				if hasFunc {
					full = value.Truthy(ready.Eval(ctx, scope, cur))
				}
				if full {
					if !yield(ordereddict.NewDict().Set("rows", cur)) {
						return
					}
					cur = nil
				}
			}
			if len(cur) > 0 {
				yield(ordereddict.NewDict().Set("rows", cur))
			}
		}
	},
}
