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

// Diff runs a query every period seconds and yields what changed since
// the run before: new rows (by key) with Diff "added", vanished ones with
// Diff "removed". The first run's rows are all "added". Without a period
// the query runs once.
var Diff = vql.PluginFunc{
	Meta: vql.Info{
		Name: "diff",
		Doc:  "Rows added or removed (column Diff) between runs of query every period seconds, matched by key.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The query to run repeatedly."},
			{Name: "key", Type: vql.TypeString, Required: true, Doc: "The column that identifies a row."},
			{Name: "period", Type: vql.TypeFloat, Doc: "Seconds between runs (default: run once)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		key, secs := args.String("key", ""), args.Float("period", 0)
		query, _ := args.Get("query")
		if args.Failed() {
			return none
		}
		period, err := value.Seconds(secs)
		if err != nil || period < 0 {
			scope.Errorf("diff: period must be a non-negative number of seconds, not %v", secs)
			return none
		}
		return func(yield func(vql.Row) bool) {
			var prev *ordereddict.Dict
			for {
				cur := ordereddict.NewDict()
				// A run's rows wait for the next run to be compared.
				for row := range scope.RowsOf(queues.Detached(ctx), query) {
					k, _ := value.Member(row, key)
					text, _ := value.EncodeJSON(scope.Materialize(ctx, k))
					cur.Set(string(text), row)
				}
				if ctx.Err() != nil {
					return
				}
				for _, item := range cur.Items() {
					if _, seen := prevGet(prev, item.Key); !seen && !yield(withColumn(item.Value, "Diff", "added")) {
						return
					}
				}
				if prev != nil {
					for _, item := range prev.Items() {
						if _, still := cur.Get(item.Key); !still && !yield(withColumn(item.Value, "Diff", "removed")) {
							return
						}
					}
				}
				prev = cur
				if period == 0 {
					return
				}
				t := time.NewTimer(period)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				}
			}
		}
	},
}

func prevGet(d *ordereddict.Dict, k string) (any, bool) {
	if d == nil {
		return nil, false
	}
	return d.Get(k)
}

// withColumn is a copy of row (as a dict) with one more column.
func withColumn(row vql.Row, name string, v any) *ordereddict.Dict {
	out := copyRow(row)
	out.Set(name, v)
	return out
}

// copyRow is a fresh dict holding row's columns.
func copyRow(row vql.Row) *ordereddict.Dict {
	out := ordereddict.NewDict()
	for _, k := range value.Keys(row) {
		v, _ := value.Member(row, k)
		out.Set(k, v)
	}
	return out
}
