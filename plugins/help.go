package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// Help is the VQL-native list of the engine's vocabulary. It reads the
// same declarations the check, `vqlq help` and REPL completion read
// (Engine.Plugins, Engine.Functions, accessors.All), so what a query sees
// here is what the engine accepts.
var Help = vql.PluginFunc{
	Meta: vql.Info{
		Name: "help",
		Doc:  "One row per plugin, function and accessor the engine has: name, type (plugin, function or accessor), description, args (name, type, required, description), permissions (what a session must hold to call it).",
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		e := scope.Engine()
		return func(yield func(vql.Row) bool) {
			for _, p := range e.Plugins() {
				if !yield(helpRow(p, "plugin")) {
					return
				}
			}
			for _, f := range e.Functions() {
				if !yield(helpRow(f, "function")) {
					return
				}
			}
			for _, a := range accessors.All() {
				if !yield(helpRow(vql.Info{Name: a.Name, Doc: a.Doc, Permissions: a.Permissions()}, "accessor")) {
					return
				}
			}
		}
	},
}

// helpRow is one row of help(): the declaration as VQL values.
func helpRow(info vql.Info, kind string) *ordereddict.Dict {
	args := make([]any, 0, len(info.Args))
	for _, a := range info.Args {
		args = append(args, ordereddict.NewDict().
			Set("name", a.Name).
			Set("type", string(a.Type)).
			Set("required", a.Required).
			Set("description", a.Doc))
	}
	perms := make([]any, len(info.Permissions))
	for i, p := range info.Permissions {
		perms[i] = string(p)
	}
	return ordereddict.NewDict().
		Set("name", info.Name).
		Set("type", kind).
		Set("description", info.Doc).
		Set("args", args).
		Set("permissions", perms)
}
