// Package vql is the VQL engine: scopes, the lazy evaluator, query
// execution, and the registry of plugins and functions a host program
// extends. Parsing lives in vql/parser, the syntax tree in vql/ast, and
// value semantics in vql/value.
package vql

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
)

// Engine holds the plugins, functions and global variables that sessions
// see. It is safe for concurrent use; register everything before running
// queries for predictable results.
type Engine struct {
	mu        sync.RWMutex
	plugins   map[string]Plugin
	functions map[string]Function
	globals   map[string]any
	resolvers []func(name string) (Plugin, bool)
	// notes are warnings for LETs of names that look meaningful but are
	// not (a query that sets OrgId has not changed its org).
	notes map[string]string
	// vfilterCore leaves Velociraptor's operator protocols out
	// (operators.go).
	vfilterCore atomic.Bool
}

// NewEngine returns an engine with nothing registered. The root package
// vqlq (github.com/vqlq/vqlq) returns one with every built-in.
func NewEngine() *Engine {
	return &Engine{plugins: map[string]Plugin{}, functions: map[string]Function{}, globals: map[string]any{}}
}

// AddPlugin registers (or replaces) a plugin under its Info().Name.
func (e *Engine) AddPlugin(p Plugin) {
	e.mu.Lock()
	e.plugins[p.Info().Name] = p
	e.mu.Unlock()
}

// AddFunction registers (or replaces) a function under its Info().Name.
func (e *Engine) AddFunction(f Function) {
	e.mu.Lock()
	e.functions[f.Info().Name] = f
	e.mu.Unlock()
}

// SetVar sets a global variable visible to every session.
func (e *Engine) SetVar(name string, v any) {
	e.mu.Lock()
	e.globals[name] = v
	e.mu.Unlock()
}

// NoteVar makes a LET of name log note as a warning. Hosts use it for
// names users may expect to have an effect that only the session has.
func (e *Engine) NoteVar(name, note string) {
	e.mu.Lock()
	if e.notes == nil {
		e.notes = map[string]string{}
	}
	e.notes[name] = note
	e.mu.Unlock()
}

// AddResolver registers a source of plugins that are not known in advance:
// `Artifact.Custom.X()` is resolved by the artifact repository at the time
// the query runs. Registered plugins are tried first.
func (e *Engine) AddResolver(r func(name string) (Plugin, bool)) {
	e.mu.Lock()
	e.resolvers = append(e.resolvers, r)
	e.mu.Unlock()
}

func (e *Engine) plugin(name string) (Plugin, bool) {
	e.mu.RLock()
	p, ok := e.plugins[name]
	resolvers := e.resolvers
	e.mu.RUnlock()
	if ok {
		return p, true
	}
	for _, r := range resolvers {
		if p, ok := r(name); ok {
			return p, true
		}
	}
	return nil, false
}

func (e *Engine) function(name string) (Function, bool) {
	e.mu.RLock()
	f, ok := e.functions[name]
	e.mu.RUnlock()
	return f, ok
}

// Plugins lists the plugins' declarations, sorted by name.
func (e *Engine) Plugins() []Info {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]Info, 0, len(e.plugins))
	for _, p := range e.plugins {
		out = append(out, p.Info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Functions lists the functions' declarations, sorted by name.
func (e *Engine) Functions() []Info {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]Info, 0, len(e.functions))
	for _, f := range e.functions {
		out = append(out, f.Info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (e *Engine) pluginNames() []string {
	var out []string
	for _, i := range e.Plugins() {
		out = append(out, i.Name)
	}
	return out
}

func (e *Engine) functionNames() []string {
	var out []string
	for _, i := range e.Functions() {
		out = append(out, i.Name)
	}
	return out
}

// Session is one conversation with the engine: LET bindings persist from
// one Run to the next, as at a REPL prompt.
type Session struct {
	root *Scope
}

// SessionOptions configure a session.
type SessionOptions struct {
	// OnLog receives every log message as it is produced, possibly from
	// several goroutines at once.
	OnLog func(Message)
	// Identity is who the session acts for: its org, principal and
	// permissions. The zero value is the host's default org with no
	// permissions beyond the plugins and functions that declare none.
	Identity Identity
	// OnDenied is told of every call refused for a missing permission,
	// so that the host can audit it.
	OnDenied func(Denial)
	// MaxQueryMemory is the memory budget of each statement, in bytes
	// (estimated, see budget.go): a GROUP BY, an ORDER BY, a `LET X <=`
	// or a query read as a value that holds more stops its statement with
	// ErrMemoryBudget. Zero is DefaultMaxQueryMemory; negative is none.
	// It is the host's to set: no query can change it.
	MaxQueryMemory int64
	// UploadDir is the folder upload() stores files in, one folder per
	// org (the data folder's uploads/); empty, upload() refuses.
	UploadDir string
}

// NewSession starts a session with its own scope.
func (e *Engine) NewSession(opts SessionOptions) *Session {
	rt := &runtime{engine: e, onLog: opts.OnLog, identity: opts.Identity, onDenied: opts.OnDenied,
		maxMemory: opts.MaxQueryMemory, state: &sessionState{}, ends: &endHooks{}, uploadDir: opts.UploadDir}
	if rt.maxMemory == 0 {
		rt.maxMemory = DefaultMaxQueryMemory
	}
	e.mu.RLock()
	globals := make(map[string]any, len(e.globals))
	for k, v := range e.globals {
		globals[k] = v
	}
	e.mu.RUnlock()
	base := &Scope{rt: rt, vars: globals, agg: newAggContext()}
	return &Session{root: base.Child()}
}

// Scope is the session's top-level scope: LET bindings land here.
func (s *Session) Scope() *Scope { return s.root }

// Result is one row of one statement.
type Result struct {
	// Statement is the index of the statement in the program.
	Statement int
	Row       *ordereddict.Dict
}

// Run executes a program statement by statement and yields each row as it
// is produced. LET statements yield nothing. Stopping the iteration, or
// cancelling ctx, stops the running query.
func (s *Session) Run(ctx context.Context, prog *ast.Program) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		for i, stmt := range prog.Statements {
			if ctx.Err() != nil {
				return
			}
			for row := range s.RunStatement(ctx, stmt) {
				if !yield(Result{Statement: i, Row: row}) {
					return
				}
			}
		}
	}
}

// RunText parses and runs text. A parse error is returned before anything
// runs.
func (s *Session) RunText(ctx context.Context, text string) (iter.Seq[Result], error) {
	prog, err := parser.Parse(text, "")
	if err != nil {
		return nil, err
	}
	return s.Run(ctx, prog), nil
}

// RunStatement executes one statement and yields its rows.
func (s *Session) RunStatement(ctx context.Context, stmt ast.Statement) iter.Seq[*ordereddict.Dict] {
	return s.root.Exec(ctx, stmt)
}

// Exec runs one statement in this scope: a LET binds here, a SELECT yields
// its rows. Artifact sources (LETs, then a SELECT) run this way. The
// statement stops when ctx ends, or by itself with a logged error (a
// runaway recursion, its memory budget).
func (s *Scope) Exec(ctx context.Context, stmt ast.Statement) iter.Seq[*ordereddict.Dict] {
	return func(yield func(*ordereddict.Dict) bool) {
		q, ctx, done := s.begin(ctx)
		defer done()
		switch st := stmt.(type) {
		case *ast.Let:
			s.execLet(ctx, q, st)
		case *ast.SelectStmt:
			q.agg = newAggContext()
			if q.query == "" {
				q.query = st.String()
			}
			if st.Explain {
				q.Log(LevelInfo, "EXPLAIN: %s", st.Select.String())
			}
			for row := range q.Query(ctx, st.Select) {
				d, ok := row.(*ordereddict.Dict)
				if !ok {
					continue
				}
				if !yield(d) {
					return
				}
			}
		}
	}
}

// execLet binds a LET statement in scope s; a materialised LET runs in q,
// the statement's scope.
func (s *Scope) execLet(ctx context.Context, q *Scope, l *ast.Let) {
	name := l.Name.Value
	if _, masks := s.rt.engine.function(name); masks && l.HasParams {
		s.Log(LevelWarn, "LET expression is masking a built in function %s", name)
	}
	s.rt.engine.mu.RLock()
	note, noted := s.rt.engine.notes[name]
	s.rt.engine.mu.RUnlock()
	if noted {
		s.Log(LevelWarn, "LET %s: %s", name, note)
	}
	switch {
	case l.HasParams:
		s.Set(name, &letFunc{def: l})
	case l.Materialize && l.Query != nil:
		rows := q.collect(ctx, q.Query(ctx, l.Query), "LET "+name+" <=", nil)
		if !q.stopped() { // over budget: no half answer is bound
			s.Set(name, rows)
		}
	case l.Materialize:
		v := q.Materialize(ctx, q.Eval(ctx, l.Expr))
		if !q.stopped() {
			s.Set(name, v)
		}
	case l.Query != nil:
		s.Set(name, &letQuery{sel: l.Query})
	default:
		s.Set(name, &letExpr{expr: l.Expr})
	}
}

// toJSONText renders a value as JSON for keys and sorting.
func toJSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
