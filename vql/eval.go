package vql

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/value"
)

// Eval evaluates an expression. It never fails: a problem is logged and the
// result is NULL. Queries in the result stay lazy; Resolve materialises
// them.
func (s *Scope) Eval(ctx context.Context, e ast.Expr) any {
	switch n := e.(type) {
	case *ast.Int:
		return n.Any()
	case *ast.Float:
		return n.Any()
	case *ast.String:
		return n.Value
	case *ast.Bool:
		return n.Value
	case *ast.Null:
		return nil
	case *ast.Ident:
		return s.evalIdent(ctx, n)
	case *ast.Binary:
		return s.evalBinary(ctx, n)
	case *ast.Unary:
		x := s.Eval(ctx, n.X)
		switch n.Op {
		case ast.OpNot:
			return !s.truthy(ctx, x)
		case ast.OpNeg:
			return value.Neg(s.Resolve(ctx, x))
		default:
			x = s.Resolve(ctx, x)
			if _, ok := value.ToNumber(x); ok {
				return x
			}
			return nil
		}
	case *ast.Member:
		x := s.Resolve(ctx, s.Eval(ctx, n.X))
		v, _ := value.Member(x, n.Name.Value)
		return v
	case *ast.Index:
		x := s.Resolve(ctx, s.Eval(ctx, n.X))
		return value.Index(x, s.Resolve(ctx, s.Eval(ctx, n.Index)))
	case *ast.Slice:
		x := s.Resolve(ctx, s.Eval(ctx, n.X))
		var lo, hi any
		if n.Lo != nil {
			lo = s.Resolve(ctx, s.Eval(ctx, n.Lo))
		}
		if n.Hi != nil {
			hi = s.Resolve(ctx, s.Eval(ctx, n.Hi))
		}
		return value.Slice(x, lo, hi)
	case *ast.Call:
		return s.evalCall(ctx, n)
	case *ast.Array:
		out := make([]any, len(n.Elems))
		for i, el := range n.Elems {
			out[i] = s.Eval(ctx, el)
		}
		return out
	case *ast.Paren:
		return s.Eval(ctx, n.X)
	case *ast.SubSelect:
		return &StoredQuery{sel: n.Select}
	}
	s.Errorf("cannot evaluate %T", e)
	return nil
}

func (s *Scope) evalIdent(ctx context.Context, n *ast.Ident) any {
	v, ok := s.lookup(n.Name.Value)
	if !ok {
		if !s.quiet {
			s.Errorf("Symbol %s not found", n.Name.Value)
		}
		return nil
	}
	return s.readDefinition(ctx, n.Name.Value, v)
}

// readDefinition turns what name is bound to into the value it stands
// for: a LET expression is evaluated (in the scope of the use), a LET query
// becomes a lazy query.
func (s *Scope) readDefinition(ctx context.Context, name string, v any) any {
	switch d := v.(type) {
	case *letExpr:
		c := s.enter(ctx, name, false)
		if c == nil {
			return nil
		}
		return c.Eval(ctx, d.expr)
	case *letQuery:
		return &StoredQuery{sel: d.sel, name: name}
	case *letFunc:
		s.Errorf("Symbol %s is a function but it is not being called.", d.def.Name.Value)
		return nil
	}
	return v
}

func (s *Scope) truthy(ctx context.Context, v any) bool {
	if q, ok := v.(Query); ok {
		return s.hasRows(ctx, q)
	}
	return value.Truthy(v)
}

// hasRows reports whether a query yields a row. It is apart from truthy so
// that the closure of the range loop does not make truthy allocate.
func (s *Scope) hasRows(ctx context.Context, q Query) bool {
	for range q.Rows(ctx, s) {
		return true
	}
	return false
}

func (s *Scope) evalBinary(ctx context.Context, n *ast.Binary) any {
	switch n.Op {
	case ast.OpAnd:
		if !s.truthy(ctx, s.Eval(ctx, n.Left)) {
			return false
		}
		return s.truthy(ctx, s.Eval(ctx, n.Right))
	case ast.OpAndValue:
		if !s.truthy(ctx, s.Eval(ctx, n.Left)) {
			return false
		}
		r := s.Eval(ctx, n.Right)
		if !s.truthy(ctx, r) {
			return false
		}
		return r
	case ast.OpOr:
		if s.truthy(ctx, s.Eval(ctx, n.Left)) {
			return true
		}
		r := s.Eval(ctx, n.Right)
		if s.truthy(ctx, r) {
			return true
		}
		return r
	case ast.OpOrValue:
		l := s.Eval(ctx, n.Left)
		if s.truthy(ctx, l) {
			return l
		}
		return s.Eval(ctx, n.Right)
	}
	l := s.Resolve(ctx, s.Eval(ctx, n.Left))
	r := s.Resolve(ctx, s.Eval(ctx, n.Right))
	switch n.Op {
	case ast.OpEq:
		return value.Equal(l, r)
	case ast.OpNe:
		return !value.Equal(l, r)
	case ast.OpLt:
		c, ok := s.rt.engine.operators().Compare(l, r)
		return ok && c < 0
	case ast.OpLe:
		c, ok := s.rt.engine.operators().Compare(l, r)
		return (ok && c <= 0) || value.Equal(l, r)
	case ast.OpGt:
		c, ok := s.rt.engine.operators().Compare(l, r)
		return ok && c > 0
	case ast.OpGe:
		c, ok := s.rt.engine.operators().Compare(l, r)
		return (ok && c >= 0) || value.Equal(l, r)
	case ast.OpIn:
		return value.In(l, r)
	case ast.OpRegex:
		ok, err := s.rt.engine.operators().RegexMatch(l, r)
		if err != nil {
			s.Errorf("%s: %v", n.P, err)
		}
		return ok
	case ast.OpAdd:
		return s.rt.engine.operators().Add(l, r)
	case ast.OpSub:
		return value.Sub(l, r)
	case ast.OpMul:
		return s.rt.engine.operators().Mul(l, r)
	case ast.OpDiv:
		return value.Div(l, r)
	case ast.OpMod:
		return value.Mod(l, r)
	}
	return nil
}

// Resolve materialises a lazy value: a query becomes the list of its rows.
// Operators, members and indexes see materialised values.
func (s *Scope) Resolve(ctx context.Context, v any) any {
	q, ok := v.(Query)
	if !ok {
		return v
	}
	return s.collect(ctx, q.Rows(ctx, s), "a query read as a value", nil)
}

// Materialize resolves every lazy value inside v, lists and dicts included,
// so that v can leave the engine (be printed, stored, compared).
func (s *Scope) Materialize(ctx context.Context, v any) any {
	switch t := v.(type) {
	case nil, string, int64, float64, bool:
		return v
	case Query:
		return s.collect(ctx, t.Rows(ctx, s), "a query read as a value", func(row Row) any { return s.Materialize(ctx, row) })
	case []any:
		var out []any
		for i, e := range t {
			m := s.Materialize(ctx, e)
			if out == nil && !sameValue(m, e) {
				out = append(make([]any, 0, len(t)), t[:i]...)
			}
			if out != nil {
				out = append(out, m)
			}
		}
		if out == nil {
			return t
		}
		return out
	case *ordereddict.Dict:
		return s.materializeDict(ctx, t)
	case scopeView:
		return t
	}
	return v
}

// sameValue reports whether materialising left a value unchanged (only
// lists and dicts can change identity).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case *ordereddict.Dict:
		y, ok := b.(*ordereddict.Dict)
		return ok && x == y
	case Query:
		return false
	}
	if _, ok := b.(Query); ok {
		return false
	}
	return true
}

func (s *Scope) materializeDict(ctx context.Context, d *ordereddict.Dict) *ordereddict.Dict {
	items := d.Items()
	var out *ordereddict.Dict
	for i, item := range items {
		m := s.Materialize(ctx, item.Value)
		if out == nil && !sameValue(m, item.Value) {
			out = ordereddict.NewDict()
			for _, prev := range items[:i] {
				out.Set(prev.Key, prev.Value)
			}
		}
		if out != nil {
			out.Set(item.Key, m)
		}
	}
	if out == nil {
		return d
	}
	return out
}

// RowsOf reads any value as rows, the way FROM reads a variable: a query
// yields its rows, a list its elements, anything else is one row.
func (s *Scope) RowsOf(ctx context.Context, v any) iter.Seq[Row] {
	switch t := v.(type) {
	case Query:
		return t.Rows(ctx, s)
	case []any:
		return func(yield func(Row) bool) {
			for _, e := range t {
				if !yield(e) {
					return
				}
			}
		}
	}
	if l, ok := value.AsList(v); ok {
		return s.RowsOf(ctx, l)
	}
	return func(yield func(Row) bool) { yield(v) }
}

func (s *Scope) evalCall(ctx context.Context, n *ast.Call) any {
	name := n.Name.Value
	if fn, ok := s.rt.engine.function(name); ok {
		info := fn.Info()
		if len(info.Permissions) > 0 && !s.checkPermissions(name, &info) {
			return nil
		}
		args := s.newArgs(ctx, name, &info, n.Args, n, false)
		if args.failed {
			return nil
		}
		return s.callFunction(ctx, fn, args)
	}
	def, ok := s.lookup(name)
	if !ok {
		if why := s.rt.engine.notAFunction(name); why != "" {
			s.Errorf("Function %s not found: %s", name, why)
		} else {
			s.Errorf("Function %s not found.%s", name, suggestion(name, s.rt.engine.functionNames()))
		}
		return nil
	}
	switch d := def.(type) {
	case *letFunc:
		return s.callLet(ctx, name, d.def.Params, d.def.Expr, d.def.Query, n.Args)
	case *letExpr:
		return s.callLet(ctx, name, nil, d.expr, nil, n.Args)
	case *letQuery:
		return s.callLet(ctx, name, nil, nil, d.sel, n.Args)
	}
	s.Errorf("Symbol %s is not a function but it is being called.", name)
	return nil
}

// callFunction runs a function, turning a panic into a logged error so one
// bad call cannot take the query down.
func (s *Scope) callFunction(ctx context.Context, fn Function, args *Args) (result any) {
	defer func() {
		if r := recover(); r != nil {
			s.Errorf("%s: %v", fn.Info().Name, r)
			result = nil
		}
	}()
	return fn.Call(ctx, s, args)
}

// bindParams evaluates the arguments of a LET function call in the caller's
// scope. Parameters not passed take their default, or are left unbound so
// that the caller's variable of that name shows through; unknown arguments
// are ignored.
func (s *Scope) bindParams(ctx context.Context, params []*ast.Param, args []*ast.Arg) map[string]any {
	vars := make(map[string]any, len(params)+len(args))
	if params == nil {
		for _, a := range args {
			vars[a.Name.Value] = s.Eval(ctx, a.Value)
		}
		return vars
	}
	for _, p := range params {
		bound := false
		for _, a := range args {
			if a.Name.Value == p.Name.Value {
				vars[p.Name.Value] = s.Eval(ctx, a.Value)
				bound = true
				break
			}
		}
		if !bound && p.Default != nil {
			vars[p.Name.Value] = s.Eval(ctx, p.Default)
		}
	}
	return vars
}

// callLet calls a LET definition: an expression body is evaluated now with
// its own aggregate state; a query body becomes a bound query.
func (s *Scope) callLet(ctx context.Context, name string, params []*ast.Param, body ast.Expr, sel *ast.Select, args []*ast.Arg) any {
	vars := s.bindParams(ctx, params, args)
	if sel != nil {
		return &StoredQuery{sel: sel, name: name, params: vars, agg: newAggContext()}
	}
	c := s.enter(ctx, name, false)
	if c == nil {
		return nil
	}
	c.vars = vars
	c.agg = newAggContext()
	return c.Eval(ctx, body)
}

// rowsFrom resolves the FROM clause: a variable of that name (a LET query,
// function or value) first, then a registered plugin.
func (s *Scope) rowsFrom(ctx context.Context, pc *ast.PluginCall) iter.Seq[Row] {
	name := pc.DottedName()
	if def, ok := s.lookup(name); ok {
		switch d := def.(type) {
		case *letFunc:
			return s.RowsOf(ctx, s.callLet(ctx, name, d.def.Params, d.def.Expr, d.def.Query, pc.Args))
		case *letQuery:
			if len(pc.Args) == 0 {
				c := s.enter(ctx, name, true)
				if c == nil {
					return func(func(Row) bool) {}
				}
				return c.Query(ctx, d.sel)
			}
			return s.RowsOf(ctx, s.callLet(ctx, name, nil, nil, d.sel, pc.Args))
		}
		return s.RowsOf(ctx, s.readDefinition(ctx, name, def))
	}
	p, ok := s.rt.engine.plugin(name)
	if !ok {
		if why := s.rt.engine.notAPlugin(name); why != "" {
			s.Errorf("Plugin %s not found: %s", name, why)
		} else {
			s.Errorf("Plugin %s not found.%s", name, suggestion(name, s.rt.engine.pluginNames()))
		}
		return func(func(Row) bool) {}
	}
	info := p.Info()
	if len(info.Permissions) > 0 && !s.checkPermissions(name, &info) {
		return func(func(Row) bool) {}
	}
	args := s.newArgs(ctx, name, &info, pc.Args, nil, true)
	if args.failed {
		return func(func(Row) bool) {}
	}
	return s.guard(name, p.Call(ctx, s, args))
}

// guard turns a panic inside a plugin into a logged error. A panic raised
// by the consumer of the rows is not the plugin's and is passed on.
func (s *Scope) guard(name string, seq iter.Seq[Row]) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		inYield := false
		defer func() {
			if r := recover(); r != nil {
				if inYield {
					panic(r)
				}
				s.Errorf("%s: %v", name, r)
			}
		}()
		for row := range seq {
			inYield = true
			more := yield(row)
			inYield = false
			if !more {
				return
			}
		}
	}
}
