package vql

import (
	"context"
	"iter"
)

// Row is one row a plugin produces. Usually an *ordereddict.Dict; a host
// plugin may yield any Go value and VQL reads its members (exported fields,
// json tags, zero-argument methods).
type Row = any

// ArgType says what kind of value an argument takes. It drives the type
// check, the help text and REPL completion.
type ArgType string

// The argument types.
const (
	TypeAny    ArgType = "any"
	TypeString ArgType = "string"
	TypeInt    ArgType = "int"
	TypeFloat  ArgType = "float"
	TypeBool   ArgType = "bool"
	TypeList   ArgType = "list"
	TypeDict   ArgType = "dict"
	// TypeQuery takes a stored query, a sub-query `{ SELECT … }`, or a
	// list of rows.
	TypeQuery ArgType = "query"
	// TypeLazy is evaluated only when the callee asks for it.
	TypeLazy ArgType = "lazy"
)

// ArgSpec declares one argument of a plugin or function. Argument errors,
// `vqlq help`, `.plugins` and REPL completion are all read from here.
type ArgSpec struct {
	Name     string
	Type     ArgType
	Required bool
	Doc      string
}

// Info describes a plugin or function.
type Info struct {
	Name string
	Doc  string
	Args []ArgSpec
	// FreeArgs lets the callee take any argument names (dict(), for one);
	// Args then only documents the well-known ones.
	FreeArgs bool
	// Permissions are what a session must hold to call it; a session
	// without one gets an error and the call does not run.
	Permissions []Permission
}

// Plugin is a row source used in FROM. Call returns a sequence that is
// pulled lazily: when the consumer stops (LIMIT, cancellation) the plugin
// must stop too. Rows must be fresh values: the engine may pass them on
// without copying.
type Plugin interface {
	Info() Info
	Call(ctx context.Context, scope *Scope, args *Args) iter.Seq[Row]
}

// Function is a function callable in expressions. It never fails: problems
// are logged through scope.Log and the result is NULL.
type Function interface {
	Info() Info
	Call(ctx context.Context, scope *Scope, args *Args) any
}

// PluginFunc adapts a Go function to Plugin.
type PluginFunc struct {
	Meta Info
	Fn   func(ctx context.Context, scope *Scope, args *Args) iter.Seq[Row]
}

// Info returns the plugin's declaration.
func (p PluginFunc) Info() Info { return p.Meta }

// Call runs the plugin.
func (p PluginFunc) Call(ctx context.Context, scope *Scope, args *Args) iter.Seq[Row] {
	return p.Fn(ctx, scope, args)
}

// FunctionFunc adapts a Go function to Function.
type FunctionFunc struct {
	Meta Info
	Fn   func(ctx context.Context, scope *Scope, args *Args) any
}

// Info returns the function's declaration.
func (f FunctionFunc) Info() Info { return f.Meta }

// Call runs the function.
func (f FunctionFunc) Call(ctx context.Context, scope *Scope, args *Args) any {
	return f.Fn(ctx, scope, args)
}
