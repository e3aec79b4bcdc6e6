package vql

import (
	"context"
	"iter"
	"sync"

	"github.com/vqlq/vqlq/vql/ast"
)

// letExpr is `LET X = expr`: evaluated anew, in the scope of each use.
type letExpr struct{ expr ast.Expr }

// letQuery is `LET X = SELECT …`: run anew at each use.
type letQuery struct{ sel *ast.Select }

// letFunc is `LET F(a, b=2) = …`: a function or a parameterised query.
type letFunc struct{ def *ast.Let }

// Query is a value that produces rows when read: a stored query, a
// sub-query, or a host's own. Plugins that take queries (foreach, chain)
// accept any Query.
type Query interface {
	Rows(ctx context.Context, scope *Scope) iter.Seq[Row]
}

// StoredQuery is a SELECT held as a value. It runs in the scope of whoever
// reads it, with its bound parameters (if it came from a LET function call)
// layered on top.
type StoredQuery struct {
	sel *ast.Select
	// name is the LET that defined it ("" for a `{ SELECT … }` literal),
	// to describe a recursion.
	name   string
	params map[string]any
	// agg is the aggregate state of a bound call: calling a LET query
	// again starts counting afresh, reading the same bound value again does
	// not.
	agg *aggContext
}

// String is the canonical text of the query.
func (q *StoredQuery) String() string { return q.sel.String() }

// Rows runs the query in scope.
func (q *StoredQuery) Rows(ctx context.Context, scope *Scope) iter.Seq[Row] {
	s := scope.enter(ctx, q.name, true)
	if s == nil {
		return func(func(Row) bool) {}
	}
	if q.params != nil {
		s.vars = q.params
	}
	if q.agg != nil {
		s.agg = q.agg
	}
	return s.Query(ctx, q.sel)
}

// aggContext holds the state of aggregate functions, keyed by call site.
// GROUP BY gives each group its own; calling a LET function gives each call
// its own.
type aggContext struct {
	mu     sync.Mutex
	states map[*ast.Call]any
}

func newAggContext() *aggContext { return &aggContext{states: map[*ast.Call]any{}} }

func (a *aggContext) get(site *ast.Call) any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.states[site]
}

func (a *aggContext) set(site *ast.Call, v any) {
	a.mu.Lock()
	a.states[site] = v
	a.mu.Unlock()
}
