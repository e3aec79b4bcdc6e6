// Package functions holds the built-in VQL functions named in
// spec/vql.md. Register adds them all to an engine.
package functions

import "github.com/vqlq/vqlq/vql"

// All returns every built-in function.
func All() []vql.Function {
	return []vql.Function{
		Dict, If, Format, Split, Get, Len, Encode, Timestamp, TimestampFormat, Now, Scope,
		Count, Sum, Min, Max, Enumerate, Str, Int, Upcase, Lowcase, Join,
		RegexReplace, ParseJSON, Serialize, Array, Log, Sleep,
		HTTPClient,
	}
}

// Register adds every built-in function to e.
func Register(e *vql.Engine) {
	for _, f := range All() {
		e.AddFunction(f)
	}
}

// fn is shorthand for declaring a function.
func fn(name, doc string, args []vql.ArgSpec, body func(c call) any) vql.FunctionFunc {
	return vql.FunctionFunc{
		Meta: vql.Info{Name: name, Doc: doc, Args: args},
		Fn: func(ctx ctxT, scope *vql.Scope, a *vql.Args) any {
			return body(call{ctx: ctx, scope: scope, args: a})
		},
	}
}

// needs declares the permissions a function's caller must hold.
func needs(f vql.FunctionFunc, perms ...vql.Permission) vql.FunctionFunc {
	f.Meta.Permissions = perms
	return f
}

func arg(name string, t vql.ArgType, required bool, doc string) vql.ArgSpec {
	return vql.ArgSpec{Name: name, Type: t, Required: required, Doc: doc}
}
