package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// Scope yields one empty row, so that `SELECT f() FROM scope()` evaluates
// its columns exactly once against the surrounding scope.
var Scope = vql.PluginFunc{
	Meta: vql.Info{Name: "scope", Doc: "One empty row: evaluate expressions once against the current scope."},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) { yield(ordereddict.NewDict()) }
	},
}
