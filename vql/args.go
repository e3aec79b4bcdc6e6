package vql

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/value"
)

// Args are the keyword arguments of one call. A function's arguments are
// evaluated only when the function reads them (so `if(condition=FALSE,
// then=expensive())` never runs `expensive()`), and at most once. The
// typed getters check the declared type and log `name: Field x should be an
// int not string`; after such an error Failed reports true and the callee
// gives up.
type Args struct {
	callee  string
	ctx     context.Context
	scope   *Scope
	entries []argEntry
	site    *ast.Call
	failed  bool
}

type argEntry struct {
	name  string
	expr  ast.Expr
	done  bool
	value any
}

// NewArgs builds arguments from Go values, for hosts and tests that call a
// plugin or function directly.
func NewArgs(scope *Scope, values *ordereddict.Dict) *Args {
	a := &Args{scope: scope, ctx: context.Background()}
	for _, item := range values.Items() {
		a.entries = append(a.entries, argEntry{name: item.Key, done: true, value: item.Value})
	}
	return a
}

// newArgs prepares the arguments of a call. eager evaluates every argument
// now (plugins and LET functions take their arguments that way); otherwise
// only list literals `[1, X]` are, the way vfilter does.
func (s *Scope) newArgs(ctx context.Context, callee string, info *Info, in []*ast.Arg, site *ast.Call, eager bool) *Args {
	a := &Args{callee: callee, ctx: ctx, scope: s, site: site, entries: make([]argEntry, 0, len(in))}
	for _, arg := range in {
		if info != nil && !info.FreeArgs && findSpec(info, arg.Name.Value) == nil {
			s.Errorf("%s: Unexpected arg %s", callee, arg.Name.Value)
			a.failed = true
		}
		// A repeated name keeps its first place and takes the last
		// value, as Velociraptor's argument dict does:
		// basename(path=…, path='x') is basename(path='x').
		i := a.index(arg.Name.Value)
		if i < 0 {
			i = len(a.entries)
			a.entries = append(a.entries, argEntry{})
		}
		a.entries[i] = argEntry{name: arg.Name.Value, expr: arg.Value}
		if _, isArr := arg.Value.(*ast.Array); eager || isArr {
			a.entries[i].value = s.Eval(ctx, arg.Value)
			a.entries[i].done = true
		}
	}
	if info != nil {
		for _, spec := range info.Args {
			if spec.Required && !a.Has(spec.Name) {
				s.Errorf("%s: Field %s is required", callee, spec.Name)
				a.failed = true
			}
		}
	}
	return a
}

func findSpec(info *Info, name string) *ArgSpec {
	for i := range info.Args {
		if info.Args[i].Name == name {
			return &info.Args[i]
		}
	}
	return nil
}

// Failed reports whether an argument was missing, unexpected or of the
// wrong type. The error has been logged already.
func (a *Args) Failed() bool { return a.failed }

// Scope is the caller's scope.
func (a *Args) Scope() *Scope { return a.scope }

// index is the place of the named argument, or -1.
func (a *Args) index(name string) int {
	for i := range a.entries {
		if a.entries[i].name == name {
			return i
		}
	}
	return -1
}

// Has reports whether the argument was given.
func (a *Args) Has(name string) bool { return a.index(name) >= 0 }

// Names lists the given arguments in call order.
func (a *Args) Names() []string {
	out := make([]string, len(a.entries))
	for i := range a.entries {
		out[i] = a.entries[i].name
	}
	return out
}

// Get evaluates an argument (once) and returns it; absent arguments are
// NULL. Queries stay lazy: a sub-query is returned as a Query.
func (a *Args) Get(name string) (any, bool) {
	for i := range a.entries {
		e := &a.entries[i]
		if e.name != name {
			continue
		}
		if !e.done {
			e.value = a.scope.Eval(a.ctx, e.expr)
			e.done = true
		}
		return e.value, true
	}
	return nil, false
}

// Value is Get with stored queries materialised into lists of rows.
func (a *Args) Value(name string) any {
	v, _ := a.Get(name)
	return a.scope.Resolve(a.ctx, v)
}

// valueTypeName is value.TypeName, with lazy queries named as such.
func valueTypeName(v any) string {
	if _, ok := v.(Query); ok {
		return "query"
	}
	return value.TypeName(v)
}

func (a *Args) typeError(name, want string, got any) {
	a.scope.Errorf("%s: Field %s should be %s not %s", a.callee, name, want, valueTypeName(got))
	a.failed = true
}

// String returns a string argument, or def when absent or NULL.
func (a *Args) String(name, def string) string {
	v := a.Value(name)
	if v == nil {
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		return string(t)
	}
	a.typeError(name, "a string", v)
	return def
}

// Int returns an integer argument (a float is truncated), or def.
func (a *Args) Int(name string, def int64) int64 {
	v := a.Value(name)
	if v == nil {
		return def
	}
	n, ok := value.ToNumber(v)
	if !ok {
		a.typeError(name, "an int", v)
		return def
	}
	if n.IsFloat {
		return int64(n.Float)
	}
	return n.Int
}

// Float returns a numeric argument as a float, or def.
func (a *Args) Float(name string, def float64) float64 {
	v := a.Value(name)
	if v == nil {
		return def
	}
	n, ok := value.ToNumber(v)
	if !ok {
		a.typeError(name, "a float", v)
		return def
	}
	return n.F()
}

// Bool returns the truth of an argument, or def when absent.
func (a *Args) Bool(name string, def bool) bool {
	if !a.Has(name) {
		return def
	}
	return value.Truthy(a.Value(name))
}

// Strings returns a list-of-strings argument; a single string is a list of
// one.
func (a *Args) Strings(name string) []string {
	v := a.Value(name)
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		return []string{t}
	}
	l, ok := value.AsList(v)
	if !ok {
		a.typeError(name, "a list of strings", v)
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			a.typeError(name, "a list of strings", v)
			return nil
		}
		out = append(out, s)
	}
	return out
}

// Rows reads an argument as a source of rows: a query yields its rows, a
// list its elements, anything else one row. ok is false when absent.
func (a *Args) Rows(name string) (iter.Seq[Row], bool) {
	v, ok := a.Get(name)
	if !ok {
		return nil, false
	}
	return a.scope.RowsOf(a.ctx, v), true
}

// AggregateState returns the state this call site keeps in the current
// aggregate context (NULL the first time). Aggregate functions use it.
func (a *Args) AggregateState() any {
	if a.site == nil || a.scope.agg == nil {
		return nil
	}
	return a.scope.agg.get(a.site)
}

// SetAggregateState stores this call site's aggregate state.
func (a *Args) SetAggregateState(v any) {
	if a.site == nil || a.scope.agg == nil {
		return
	}
	a.scope.agg.set(a.site, v)
}

// Dict returns all given arguments, evaluated, in call order.
func (a *Args) Dict() *ordereddict.Dict {
	d := ordereddict.NewDict()
	for _, n := range a.Names() {
		v, _ := a.Get(n)
		d.Set(n, v)
	}
	return d
}
