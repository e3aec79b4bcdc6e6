package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Flatten expands every list-valued (or query-valued) column of each row
// into one row per element, taking the cartesian product when several
// columns are lists. An empty list leaves the column as it is.
var Flatten = vql.PluginFunc{
	Meta: vql.Info{
		Name: "flatten",
		Doc:  "Expand list-valued columns of each row into one row per element (cartesian product).",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "Rows to flatten."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		rows, _ := args.Rows("query")
		return func(yield func(vql.Row) bool) {
			for row := range rows {
				for _, out := range flattenRow(ctx, scope, row) {
					if !yield(out) {
						return
					}
				}
			}
		}
	},
}

func flattenRow(ctx context.Context, scope *vql.Scope, row vql.Row) []*ordereddict.Dict {
	keys := value.Keys(row)
	choices := make([][]any, len(keys))
	for i, k := range keys {
		v, _ := value.Member(row, k)
		choices[i] = expandCell(ctx, scope, v)
	}
	// The first column varies fastest: combos for column i are built by
	// repeating the combos so far for each of its values.
	combos := [][]any{{}}
	for _, values := range choices {
		next := make([][]any, 0, len(combos)*len(values))
		for _, v := range values {
			for _, c := range combos {
				next = append(next, append(append(make([]any, 0, len(c)+1), c...), v))
			}
		}
		combos = next
	}
	out := make([]*ordereddict.Dict, len(combos))
	for i, c := range combos {
		d := ordereddict.NewDict()
		for j, k := range keys {
			d.Set(k, c[j])
		}
		out[i] = d
	}
	return out
}

// expandCell lists the values a cell takes: a list's non-NULL elements, a
// query's rows, or the value itself when there is nothing to expand.
func expandCell(ctx context.Context, scope *vql.Scope, v any) []any {
	var out []any
	if q, ok := v.(vql.Query); ok {
		for r := range q.Rows(ctx, scope) {
			out = append(out, r)
		}
	} else if l, ok := value.AsList(v); ok {
		for _, e := range l {
			if e != nil {
				out = append(out, e)
			}
		}
	}
	if len(out) == 0 {
		return []any{v}
	}
	return out
}
