package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Items turns a dict into rows {_key, _value}, one per member; a list gives
// its indexes as keys, a query its row numbers.
var Items = vql.PluginFunc{
	Meta: vql.Info{
		Name: "items",
		Doc:  "One row {_key, _value} per member of a dict (or element of a list or query).",
		Args: []vql.ArgSpec{
			{Name: "item", Type: vql.TypeAny, Required: true, Doc: "The dict, list or query to iterate."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		item, _ := args.Get("item")
		pair := func(k, v any) vql.Row { return ordereddict.NewDict().Set("_key", k).Set("_value", v) }
		return func(yield func(vql.Row) bool) {
			if q, ok := item.(vql.Query); ok {
				var i int64
				for row := range q.Rows(ctx, scope) {
					if !yield(pair(i, row)) {
						return
					}
					i++
				}
				return
			}
			if l, ok := value.AsList(item); ok {
				for i, e := range l {
					if !yield(pair(int64(i), e)) {
						return
					}
				}
				return
			}
			for _, k := range value.Keys(item) {
				v, _ := value.Member(item, k)
				if !yield(pair(k, v)) {
					return
				}
			}
		}
	},
}
