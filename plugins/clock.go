package plugins

import (
	"context"
	"iter"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Clock emits a row every period seconds, forever: the heartbeat of event
// queries. It never ends by itself; LIMIT or cancellation stops it.
var Clock = vql.PluginFunc{
	Meta: vql.Info{
		Name: "clock",
		Doc:  "A row {Time, Unix} every period seconds; never ends by itself.",
		Args: []vql.ArgSpec{
			{Name: "period", Type: vql.TypeFloat, Doc: "Seconds between rows (default 1)."},
			{Name: "start", Type: vql.TypeAny, Doc: "Time of the first row (epoch seconds or timestamp; default now)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		period := time.Duration(args.Float("period", 1) * float64(time.Second))
		if args.Failed() {
			return none
		}
		if period <= 0 {
			scope.Errorf("clock: period must be positive")
			return none
		}
		next := time.Now()
		if start := args.Value("start"); start != nil {
			switch t := start.(type) {
			case time.Time:
				next = t
			default:
				if n, ok := value.ToNumber(start); ok {
					next = time.Unix(0, int64(n.F()*1e9))
				}
			}
		}
		return func(yield func(vql.Row) bool) {
			for {
				wait := time.Until(next)
				if wait > 0 {
					timer := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						timer.Stop()
						return
					case <-timer.C:
					}
				}
				now := time.Now().UTC()
				if !yield(ordereddict.NewDict().Set("Time", now).Set("Unix", now.Unix())) {
					return
				}
				next = next.Add(period)
				if time.Until(next) < -period {
					next = time.Now().Add(period) // fell behind: skip, don't burst
				}
			}
		}
	},
}
