package vql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vqlq/vqlq/internal/suggest"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/source"
)

// CheckError is what the check before a program runs found wrong: every
// problem, in the order of the text, each with its position.
type CheckError struct {
	Problems []*source.Error
}

// Error lists the problems, one `line:column: message` (with the quoted
// line and a caret) after the other.
func (e *CheckError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap gives the problems to errors.As, so a caller that wants one
// position (the HTTP API's line and column) finds the first.
func (e *CheckError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Check is the stage between parse and run: it resolves every plugin,
// function and argument name of prog against the engine and reports, as a
// *CheckError, each one that cannot be resolved, so that a mistake is
// reported before anything runs rather than as NULL halfway through.
//
// A name is resolved when it is a registered plugin or function (or one a
// resolver knows, such as Artifact.X), a LET of the program (anywhere in
// it, with its parameters), a global variable of the engine, or a name
// defined says the scope will hold when the program runs (a session's
// earlier LETs, an artifact's parameters). Argument names are checked for
// plugins and functions that declare their arguments and do not take free
// ones, and required arguments must be given. `FROM X` without parentheses inside a sub-query or a stored query
// may name a column of the row it runs for, which only the run knows, so
// it is not reported.
func (e *Engine) Check(prog *ast.Program, defined func(name string) bool) error {
	c := &checker{e: e, defined: defined, prog: prog, names: map[string]bool{}}
	for _, st := range prog.Statements {
		if l, ok := st.(*ast.Let); ok {
			c.names[l.Name.Value] = true
			for _, p := range l.Params {
				c.names[p.Name.Value] = true
			}
		}
	}
	for _, st := range prog.Statements {
		c.statement(st)
	}
	if len(c.problems) == 0 {
		return nil
	}
	return &CheckError{Problems: c.problems}
}

// Check checks prog as it would run in this session: the session's
// variables and earlier LETs count as defined.
func (s *Session) Check(prog *ast.Program) error {
	return s.root.rt.engine.Check(prog, func(name string) bool {
		_, ok := s.root.lookup(name)
		return ok
	})
}

type checker struct {
	e        *Engine
	defined  func(string) bool
	prog     *ast.Program
	names    map[string]bool // LETs and LET parameters of the program
	problems []*source.Error
}

func (c *checker) report(p source.Pos, format string, args ...any) {
	c.problems = append(c.problems, &source.Error{File: c.prog.File, Pos: p, Msg: fmt.Sprintf(format, args...), Text: c.prog.Text})
}

// isDefined reports whether name will be a variable when the program runs.
func (c *checker) isDefined(name string) bool {
	if c.names[name] {
		return true
	}
	c.e.mu.RLock()
	_, global := c.e.globals[name]
	c.e.mu.RUnlock()
	return global || (c.defined != nil && c.defined(name))
}

func (c *checker) statement(st ast.Statement) {
	switch st := st.(type) {
	case *ast.SelectStmt:
		c.selectQ(st.Select, false)
	case *ast.Let:
		for _, p := range st.Params {
			c.expr(p.Default)
		}
		if st.Query != nil {
			c.selectQ(st.Query, true)
		} else {
			c.expr(st.Expr)
		}
	}
}

// selectQ checks one SELECT; nested is true when it runs for the rows of
// another query (a sub-query, a stored query).
func (c *checker) selectQ(s *ast.Select, nested bool) {
	for _, col := range s.Columns {
		c.expr(col.Expr)
	}
	c.from(s.From, nested)
	c.expr(s.Where)
	for _, g := range s.GroupBy {
		c.expr(g)
	}
	for _, k := range s.OrderBy {
		c.expr(k.Expr)
	}
}

func (c *checker) from(pc *ast.PluginCall, nested bool) {
	if pc == nil {
		return
	}
	name := pc.DottedName()
	switch p, ok := c.e.plugin(name); {
	case c.isDefined(name):
	case ok:
		c.args("plugin", p.Info(), pc.P, pc.Args)
	case nested && !pc.HasParens:
	default:
		c.report(pc.P, "%s", c.e.unknownPlugin(name))
	}
	for _, a := range pc.Args {
		c.expr(a.Value)
	}
}

// unknownPlugin says what is wrong with `FROM name(…)` when no plugin has
// that name: a function used as a plugin says how functions are called
// (notAPlugin), otherwise the nearest plugin is offered.
func (e *Engine) unknownPlugin(name string) string {
	if why := e.notAPlugin(name); why != "" {
		return why
	}
	return "unknown plugin " + name + suggest.DidYouMean(name, e.pluginNames())
}

// notAPlugin is, for a function named after FROM, how a function is
// called; "" when name is no function.
func (e *Engine) notAPlugin(name string) string {
	if _, ok := e.function(name); !ok {
		return ""
	}
	return fmt.Sprintf("%s is a function, not a plugin: call it in an expression, as in SELECT %s(…) AS x FROM scope()", name, name)
}

// unknownFunction says what is wrong with a call of name in an expression
// when no function has that name: a plugin used as a function says where
// plugins go (notAFunction), otherwise the nearest function is offered.
func (e *Engine) unknownFunction(name string) string {
	if why := e.notAFunction(name); why != "" {
		return why
	}
	return "unknown function " + name + suggest.DidYouMean(name, e.functionNames())
}

// notAFunction is, for a plugin called in an expression, where a plugin
// goes; "" when name is no plugin.
func (e *Engine) notAFunction(name string) string {
	if _, ok := e.plugin(name); !ok {
		return ""
	}
	return fmt.Sprintf("%s is a plugin, not a function: use it after FROM, as in SELECT * FROM %s(…), or as a value in a sub-query {SELECT * FROM %s(…)}", name, name, name)
}

func (c *checker) call(n *ast.Call) {
	name := n.Name.Value
	if f, ok := c.e.function(name); ok {
		c.args("function", f.Info(), n.P, n.Args)
	} else if !c.isDefined(name) {
		c.report(n.P, "%s", c.e.unknownFunction(name))
	}
	for _, a := range n.Args {
		c.expr(a.Value)
	}
}

// args reports the arguments a callee that declares its arguments does
// not take; when there is none, the required arguments it is not given
// (at the call: a misspelt required argument is reported once, as
// unknown).
func (c *checker) args(kind string, info Info, at source.Pos, args []*ast.Arg) {
	unknown := false
	for _, a := range args {
		if info.FreeArgs || findSpec(&info, a.Name.Value) != nil {
			continue
		}
		unknown = true
		names := make([]string, len(info.Args))
		for i, s := range info.Args {
			names[i] = s.Name
		}
		takes := "it takes no arguments"
		if len(names) > 0 {
			takes = "its arguments are " + strings.Join(names, ", ")
		}
		c.report(a.P, "unknown argument %s of %s %s%s; %s", a.Name.Value, kind, info.Name, suggest.DidYouMean(a.Name.Value, names), takes)
	}
	if unknown {
		return
	}
	for _, spec := range info.Args {
		if spec.Required && !slices.ContainsFunc(args, func(a *ast.Arg) bool { return a.Name.Value == spec.Name }) {
			c.report(at, "missing argument %s of %s %s", spec.Name, kind, info.Name)
		}
	}
}

func (c *checker) expr(e ast.Expr) {
	switch n := e.(type) {
	case *ast.Binary:
		c.expr(n.Left)
		c.expr(n.Right)
	case *ast.Unary:
		c.expr(n.X)
	case *ast.Member:
		c.expr(n.X)
	case *ast.Index:
		c.expr(n.X)
		c.expr(n.Index)
	case *ast.Slice:
		c.expr(n.X)
		c.expr(n.Lo)
		c.expr(n.Hi)
	case *ast.Call:
		c.call(n)
	case *ast.Array:
		for _, el := range n.Elems {
			c.expr(el)
		}
	case *ast.Paren:
		c.expr(n.X)
	case *ast.SubSelect:
		c.selectQ(n.Select, true)
	}
}
