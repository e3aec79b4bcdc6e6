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
			{Name: "start", Type: vql.TypeAny, Doc: "Time of the first row (a timestamp, an epoch in s/ms/µs/ns, or RFC 3339; default now)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		secs := args.Float("period", 1)
		if args.Failed() {
			return none
		}
		period, err := value.Seconds(secs)
		if err != nil || period <= 0 {
			scope.Errorf("clock: period must be a positive number of seconds, not %v", secs)
			return none
		}
		next := time.Now()
		if start, err := value.ToTime(args.Value("start")); err != nil {
			scope.Errorf("clock: start: %v", err)
			return none
		} else if !start.IsZero() {
			next = start
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
