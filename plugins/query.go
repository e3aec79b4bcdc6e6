package plugins

import (
	"context"
	"iter"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// Query runs VQL given as text (or a stored query) in a child scope with
// env's members as variables, and yields the rows of its SELECTs.
// Artifacts build queries at run time this way.
var Query = vql.PluginFunc{
	Meta: vql.Info{
		Name: "query",
		Doc:  "The rows of the VQL query (text or a stored query), run with env's members as variables.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeAny, Required: true, Doc: "VQL text (several statements allowed) or a stored query."},
			{Name: "env", Type: vql.TypeDict, Doc: "Variables the query sees."},
			{Name: "exit", Type: vql.TypeString, Doc: "A lambda called on each row, as in x=>x.Value >= 3: the query stops, without that row, when it is true."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		q, _ := args.Get("query")
		env := scope.Materialize(ctx, args.Value("env"))
		exit, hasExit := vql.LambdaArg(scope, args, "query", "exit")
		if args.Failed() || (args.Has("exit") && !hasExit) {
			return none
		}
		vars := map[string]any{}
		for _, k := range value.Keys(env) {
			vars[k], _ = value.Member(env, k)
		}
		inner := scope.WithVars(vars)
		rows := queryRows(ctx, scope, inner, q)
		if !hasExit {
			return rows
		}
		return func(yield func(vql.Row) bool) {
			for row := range rows {
				if value.Truthy(exit.Eval(ctx, scope, row)) || !yield(row) {
					return
				}
			}
		}
	},
}

// queryRows are the rows of q run in inner: a stored query's, or those of
// the SELECTs of VQL text.
func queryRows(ctx context.Context, scope, inner *vql.Scope, q any) iter.Seq[vql.Row] {
	text, isText := q.(string)
	if !isText {
		return inner.RowsOf(ctx, q)
	}
	prog, err := parser.Parse(text, "")
	if err != nil {
		scope.Errorf("query: %v", err)
		return none
	}
	return func(yield func(vql.Row) bool) {
		for _, stmt := range prog.Statements {
			for row := range inner.Exec(ctx, stmt) {
				if !yield(row) {
					return
				}
			}
		}
	}
}
