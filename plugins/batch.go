package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
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
			{Name: "timeout", Type: vql.TypeInt, Doc: "Accepted for compatibility; an incomplete batch is yielded when the query ends."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		size := args.Int("batch_size", 10)
		rows, _ := args.Rows("query")
		if args.Failed() {
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
				if int64(len(cur)) >= size {
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
