package plugins

import (
	"context"
	"iter"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
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
			{Name: "timeout", Type: vql.TypeInt, Doc: "Seconds: every this often, an incomplete batch is yielded as it is, so that a slow query's rows do not wait for the batch to fill."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		size := args.Int("batch_size", 10)
		query, _ := args.Get("query")
		timeout := args.Int("timeout", 0)
		ready, hasFunc := vql.LambdaArg(scope, args, "batch", "batch_func")
		if args.Failed() || (args.Has("batch_func") && !hasFunc) {
			return none
		}
		if size < 1 {
			scope.Errorf("batch: batch_size must be at least 1, not %d", size)
			return none
		}
		if timeout < 0 {
			scope.Errorf("batch: timeout must be a non-negative number of seconds, not %d", timeout)
			return none
		}
		full := func(cur []any) bool {
			if hasFunc {
				return value.Truthy(ready.Eval(ctx, scope, cur))
			}
			return int64(len(cur)) >= size
		}
		if timeout == 0 {
			return func(yield func(vql.Row) bool) {
				var cur []any
				// Rows wait in cur after their watcher went on.
				for row := range scope.RowsOf(queues.Detached(ctx), query) {
					if cur = append(cur, row); full(cur) {
						if !yield(batchRow(cur)) {
							return
						}
						cur = nil
					}
				}
				if len(cur) > 0 {
					yield(batchRow(cur))
				}
			}
		}
		return func(yield func(vql.Row) bool) {
			ch, ctx, stop := pump(ctx, scope, query, 0, func(row vql.Row) vql.Row { return row })
			defer stop()
			tick := time.NewTicker(time.Duration(timeout) * time.Second)
			defer tick.Stop()
			var cur []any
			for {
				select {
				case row, ok := <-ch:
					if !ok {
						if len(cur) > 0 {
							yield(batchRow(cur))
						}
						return
					}
					if cur = append(cur, row); !full(cur) {
						continue
					}
				case <-tick.C:
					if len(cur) == 0 {
						continue
					}
				case <-ctx.Done():
					return
				}
				if !yield(batchRow(cur)) {
					return
				}
				cur = nil
			}
		}
	},
}

func batchRow(rows []any) *ordereddict.Dict { return ordereddict.NewDict().Set("rows", rows) }
