package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// Range counts from start to end (exclusive) in steps, one row
// `{_value: i}` each. It is lazy: `range(end=100000000) LIMIT 5` makes five
// rows.
var Range = vql.PluginFunc{
	Meta: vql.Info{
		Name: "range",
		Doc:  "Rows {_value: i} for i from start up to (not including) end.",
		Args: []vql.ArgSpec{
			{Name: "start", Type: vql.TypeInt, Doc: "First value (default 0)."},
			{Name: "end", Type: vql.TypeInt, Required: true, Doc: "Stop before this value."},
			{Name: "step", Type: vql.TypeInt, Doc: "Increment (default 1; may be negative)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		start, end, step := args.Int("start", 0), args.Int("end", 0), args.Int("step", 1)
		if args.Failed() {
			return none
		}
		if step == 0 {
			scope.Errorf("range: step must not be 0")
			return none
		}
		return func(yield func(vql.Row) bool) {
			for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
				if i&1023 == 0 && ctx.Err() != nil {
					return
				}
				if !yield(ordereddict.NewDict().Set("_value", i)) {
					return
				}
			}
		}
	},
}
