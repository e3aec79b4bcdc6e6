package host

import (
	"context"
	"iter"
	"os"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// Environ is the environment variable var of the vqlq process, "" when
// it is not set, as Velociraptor's environ() function gives it.
var Environ = vql.FunctionFunc{
	Meta: vql.Info{Name: "environ", Doc: "The value of the environment variable var of this process (\"\" when unset).",
		Args:        []vql.ArgSpec{{Name: "var", Type: vql.TypeString, Required: true, Doc: "The variable's name."}},
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
		name := args.String("var", "")
		if args.Failed() {
			return nil
		}
		return os.Getenv(name)
	},
}

// EnvironPlugin is the environment as one row, a column per variable:
// all of them, or those of vars that are set. No row when none is.
var EnvironPlugin = vql.PluginFunc{
	Meta: vql.Info{Name: "environ", Doc: "One row holding this process's environment, a column per variable (only vars, when given).",
		Args:        []vql.ArgSpec{{Name: "vars", Type: vql.TypeList, Doc: "The variables to read (default: all)."}},
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			vars := args.Strings("vars")
			if args.Failed() {
				return
			}
			row := ordereddict.NewDict()
			if len(vars) == 0 {
				for _, kv := range os.Environ() {
					if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
						row.Set(k, v)
					}
				}
			}
			for _, k := range vars {
				if v, ok := os.LookupEnv(k); ok {
					row.Set(k, v)
				}
			}
			if row.Len() > 0 {
				yield(row)
			}
		}
	},
}

// Getpid is the pid of the vqlq process, which Velociraptor's artifacts
// use to find or spare themselves (pslist(pid=getpid())).
var Getpid = vql.FunctionFunc{
	Meta: vql.Info{Name: "getpid", Doc: "The pid of this process."},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
		return int64(os.Getpid())
	},
}
