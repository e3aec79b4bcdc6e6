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

// defaultDiffPeriod is Velociraptor's period when none (or 0) is given.
const defaultDiffPeriod = 60.0

// Diff runs a query every period seconds and yields what changed since
// the run before: new rows (by key) with Diff "added", vanished ones with
// Diff "removed". As in Velociraptor, the first run is the baseline and
// yields nothing, so that an event artifact watching pslist() reports the
// processes that start, not every one running when it starts; a row
// without the key column is left out. Unlike Velociraptor, the baseline
// is taken at once rather than one period later, so a change in the
// first period is not missed. initial=TRUE also yields the first run's
// rows, as "added".
var Diff = vql.PluginFunc{
	Meta: vql.Info{
		Name: "diff",
		Doc:  "Rows added or removed (column Diff) between runs of query every period seconds, matched by key; the first run is the baseline.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The query to run repeatedly."},
			{Name: "key", Type: vql.TypeString, Required: true, Doc: "The column that identifies a row."},
			{Name: "period", Type: vql.TypeFloat, Doc: "Seconds between runs (default 60)."},
			{Name: "initial", Type: vql.TypeBool, Doc: "Also yield the first run's rows as added (vqlq's addition; default: the first run is only the baseline)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		key, secs, initial := args.String("key", ""), args.Float("period", 0), args.Bool("initial", false)
		query, _ := args.Get("query")
		if args.Failed() {
			return none
		}
		if secs == 0 {
			secs = defaultDiffPeriod
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
					k, ok := value.Member(row, key)
					if !ok {
						continue
					}
					text, _ := value.EncodeJSON(scope.Materialize(ctx, k))
					cur.Set(string(text), row)
				}
				if ctx.Err() != nil {
					return
				}
				for _, item := range cur.Items() {
					if prev == nil && !initial {
						break
					}
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
