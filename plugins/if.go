package plugins

import (
	"context"
	"iter"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// If yields the rows of `then` when the condition holds, else of `else`.
var If = vql.PluginFunc{
	Meta: vql.Info{
		Name: "if",
		Doc:  "The rows of then when condition is true, otherwise the rows of else.",
		Args: []vql.ArgSpec{
			{Name: "condition", Type: vql.TypeAny, Required: true, Doc: "Truth value deciding which branch runs."},
			{Name: "then", Type: vql.TypeQuery, Doc: "Rows when the condition is true."},
			{Name: "else", Type: vql.TypeQuery, Doc: "Rows when the condition is false."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		branch := "else"
		if value.Truthy(args.Value("condition")) {
			branch = "then"
		}
		rows, ok := args.Rows(branch)
		if !ok {
			return none
		}
		return rows
	},
}
