package plugins

import (
	"context"
	"iter"
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Delay passes the rows of an event query on delay seconds after each
// arrived: enrichment that needs the system to catch up (a process's
// details, an ETW event's file) reads them a little later. Up to size rows
// wait at once; beyond that the query is held back.
var Delay = vql.PluginFunc{
	Meta: vql.Info{
		Name: "delay",
		Doc:  "The rows of query, each passed on delay seconds after it arrived.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The (event) query to delay."},
			{Name: "delay", Type: vql.TypeFloat, Required: true, Doc: "Seconds each row waits."},
			{Name: "size", Type: vql.TypeInt, Doc: "Most rows waiting at once (default 1000)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		secs, size := args.Float("delay", 0), args.Int("size", 1000)
		query, _ := args.Get("query")
		if args.Failed() {
			return none
		}
		wait, err := value.Seconds(secs)
		if err != nil || wait < 0 {
			scope.Errorf("delay: delay must be a non-negative number of seconds, not %v", secs)
			return none
		}
		type held struct {
			row vql.Row
			due time.Time
		}
		return func(yield func(vql.Row) bool) {
			ch, ctx, stop := pump(ctx, scope, query, int(max(size, 1)), func(row vql.Row) held { return held{row, time.Now().Add(wait)} })
			defer stop()
			for h := range ch {
				if d := time.Until(h.due); d > 0 {
					t := time.NewTimer(d)
					select {
					case <-t.C:
					case <-ctx.Done():
						t.Stop()
						return
					}
				}
				if !yield(h.row) {
					return
				}
			}
		}
	},
}
