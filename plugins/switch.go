package plugins

import (
	"context"
	"iter"

	"github.com/vqlq/vqlq/vql"
)

// Switch tries its queries in argument order and yields the rows of the
// first one that has any; the later ones never run. Artifacts use it for
// "the first way that works" (a tool on disk, else fetch it).
var Switch = vql.PluginFunc{
	Meta: vql.Info{
		Name:     "switch",
		Doc:      "The rows of the first query argument (a={…}, b={…}, …) that yields any row; later ones are not run.",
		FreeArgs: true,
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			for _, name := range args.Names() {
				v, _ := args.Get(name)
				any := false
				for row := range scope.RowsOf(ctx, v) {
					any = true
					if !yield(row) {
						return
					}
				}
				if any {
					return
				}
			}
		}
	},
}
