package vql

import (
	"context"
	"sort"
	"sync"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// MaxDepth bounds recursion through LET expressions, LET functions and
// stored queries: deeper calls log "Stack overflow" and yield NULL, and a
// stored query that recurses that deep stops its statement (ErrRecursion).
const MaxDepth = 1000

// runtime is what every scope of one session shares.
type runtime struct {
	engine   *Engine
	onLog    func(Message)
	identity Identity
	onDenied func(Denial)
	// maxMemory is the memory budget of each statement (budget.go);
	// zero or less is none.
	maxMemory int64
	// state is what plugins and functions keep for the session (state.go).
	state *sessionState
	// ends is what runs when the session is closed (atend.go); shared by
	// the scopes that act for another identity (WithIdentity).
	ends *endHooks
	// uploadDir is where upload() stores files (SessionOptions).
	uploadDir string
}

// Scope is a chain of layers in which names are looked up, innermost
// first. A layer holds variables (LET bindings, host variables, arguments
// of a LET function), or one row: the plugin's row and the lazily computed
// columns of the row being built.
type Scope struct {
	parent *Scope
	rt     *runtime

	mu   sync.RWMutex // guards vars: chain(async=TRUE) reads from goroutines
	vars map[string]any

	row  Row
	cols *lazyRow

	agg   *aggContext
	depth int
	// entered names the LET definition this layer runs (a stored query,
	// a LET function or expression), to describe a recursion.
	entered string
	// stmt is the statement the scope runs for (nil outside one).
	stmt *statement
	// query is the text of the top-level statement being run, so that
	// long-running plugins can say which query they serve.
	query string
	// quiet suppresses "Symbol not found" while evaluating WHERE, where
	// testing for an absent column is normal.
	quiet bool
	// granted are permissions held in this scope beyond the session's
	// (Granting): the implied_permissions of the artifacts running here.
	granted []Permission
}

// Child returns a new, empty layer on top of s.
func (s *Scope) Child() *Scope {
	return &Scope{parent: s, rt: s.rt, agg: s.agg, depth: s.depth, quiet: s.quiet, query: s.query, stmt: s.stmt, granted: s.granted}
}

// WithRow returns a child layer whose names are the members of row. Plugins
// such as foreach run their query in such a scope.
func (s *Scope) WithRow(row Row) *Scope {
	c := s.Child()
	c.row = row
	return c
}

// WithVars returns a child layer holding the given variables.
func (s *Scope) WithVars(vars map[string]any) *Scope {
	c := s.Child()
	c.vars = vars
	return c
}

// Set binds a variable in this layer.
func (s *Scope) Set(name string, v any) {
	s.mu.Lock()
	if s.vars == nil {
		s.vars = map[string]any{}
	}
	s.vars[name] = v
	s.mu.Unlock()
}

// Var reads a variable as a query would: a LET expression is evaluated.
// Hosts use it for context such as the current org.
func (s *Scope) Var(ctx context.Context, name string) (any, bool) {
	v, ok := s.lookup(name)
	if !ok {
		return nil, false
	}
	return s.readDefinition(ctx, name, v), true
}

// QueryText is the canonical text of the top-level statement this scope
// is running ("" outside a statement).
func (s *Scope) QueryText() string { return s.query }

// UploadDir is the folder the session's uploads go to ("" when the host
// gave none).
func (s *Scope) UploadDir() string { return s.rt.uploadDir }

// Engine returns the engine the scope belongs to.
func (s *Scope) Engine() *Engine { return s.rt.engine }

// lookup finds a name, innermost layer first. The value is returned as
// stored: LET definitions are not evaluated here.
func (s *Scope) lookup(name string) (any, bool) {
	for l := s; l != nil; l = l.parent {
		if l.cols != nil {
			if v, ok := l.cols.lookup(name); ok {
				return v, true
			}
		}
		if l.row != nil {
			if v, ok := value.Member(l.row, name); ok {
				return v, true
			}
		}
		if l.vars != nil {
			l.mu.RLock()
			v, ok := l.vars[name]
			l.mu.RUnlock()
			if ok {
				return v, true
			}
		}
	}
	return nil, false
}

// Names lists the names visible in the scope, for suggestions and `scope()`.
func (s *Scope) Names() []string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for l := s; l != nil; l = l.parent {
		if l.cols != nil {
			for _, n := range l.cols.plan.names {
				if n != "" {
					add(n)
				}
			}
		}
		if l.row != nil {
			for _, k := range value.Keys(l.row) {
				add(k)
			}
		}
		l.mu.RLock()
		for k := range l.vars {
			add(k)
		}
		l.mu.RUnlock()
	}
	sort.Strings(out)
	return out
}

// scopeView is what `scope()` returns: the live scope, read like a dict.
type scopeView struct {
	s   *Scope
	ctx context.Context
}

// Get looks a name up in the scope the view was taken of; a LET
// expression is evaluated, as it would be if named directly.
func (v scopeView) Get(name string) (any, bool) {
	r, ok := v.s.lookup(name)
	if !ok {
		return nil, false
	}
	if _, isFunc := r.(*letFunc); isFunc {
		return nil, false
	}
	return v.s.readDefinition(v.ctx, name, r), true
}

// Keys lists the names visible in the scope.
func (v scopeView) Keys() []string { return v.s.Names() }

// Len reports how many names are visible (a scope is always truthy).
func (v scopeView) Len() int { return 1 }

// MarshalJSON renders the row layers and variables of the scope.
func (v scopeView) MarshalJSON() ([]byte, error) {
	d := ordereddict.NewDict()
	for _, k := range v.Keys() {
		if val, ok := v.Get(k); ok {
			d.Set(k, val)
		}
	}
	return d.MarshalJSON()
}

// View returns the scope as a value, the result of the `scope()` function.
func (s *Scope) View(ctx context.Context) any { return scopeView{s: s, ctx: ctx} }
