package plugins

import (
	"context"
	"iter"
	"time"

	"github.com/vqlq/vqlq/queues"
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
			{Name: "org_id", Type: vql.TypeString, Doc: "Run the query in this org (another org than the session's needs SERVER_ADMIN in the root org)."},
			{Name: "copy_env", Type: vql.TypeList, Doc: "Names of variables of the calling query copied into the query's scope."},
			{Name: "timeout", Type: vql.TypeFloat, Doc: "Stop the query after this many seconds."},
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
		for _, name := range args.Strings("copy_env") {
			if v, ok := scope.Var(ctx, name); ok {
				vars[name] = v
			}
		}
		inner, ok := queryScope(scope, args)
		if !ok {
			return none
		}
		inner = inner.WithVars(vars)
		if secs := args.Float("timeout", 0); secs > 0 {
			d, err := value.Seconds(secs)
			if err != nil {
				scope.Errorf("query: timeout: %v", err)
				return none
			}
			return withTimeout(ctx, d, func(ctx context.Context) iter.Seq[vql.Row] {
				return exitWhen(ctx, scope, queryRows(ctx, scope, inner, q), exit, hasExit)
			})
		}
		return exitWhen(ctx, scope, queryRows(ctx, scope, inner, q), exit, hasExit)
	},
}

// queryScope is where query() runs: the caller's scope, or for org_id=
// another org's. Crossing orgs is the root org's admins' alone — an admin
// of one org holds SERVER_ADMIN there, not over its neighbours.
func queryScope(scope *vql.Scope, args *vql.Args) (*vql.Scope, bool) {
	org, ok := args.Get("org_id")
	if !ok {
		return scope, true
	}
	target, _ := org.(string)
	if target == "" || target == OrgOf(scope) {
		return scope, true
	}
	if err := queues.CheckOrg(target); err != nil {
		scope.Errorf("query: org_id: %v", err)
		return nil, false
	}
	if !scope.Require("query", vql.PermServerAdmin) {
		return nil, false
	}
	id := scope.Identity()
	if !id.AllOrgs {
		scope.Errorf("query: org_id=%s: only an admin of the root org may run a query in another org", target)
		return nil, false
	}
	id.Org = target
	return scope.WithIdentity(id), true
}

// withTimeout runs rows under a deadline.
func withTimeout(ctx context.Context, d time.Duration, rows func(context.Context) iter.Seq[vql.Row]) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		for row := range rows(ctx) {
			if !yield(row) {
				return
			}
		}
	}
}

// exitWhen ends rows before the first for which exit is true.
func exitWhen(ctx context.Context, scope *vql.Scope, rows iter.Seq[vql.Row], exit *vql.Lambda, hasExit bool) iter.Seq[vql.Row] {
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
