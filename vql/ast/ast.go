// Package ast defines the syntax tree of a VQL program. Every node knows its
// position so that run-time messages can point at the source, and every node
// prints itself in vfilter's canonical form (see format.go), because that text
// is the name of an unaliased column.
package ast

import (
	"sync/atomic"

	"github.com/vqlq/vqlq/vql/source"
)

// Node is anything in the tree.
type Node interface {
	Pos() source.Pos
	// String is the canonical text of the node.
	String() string
}

// Program is a whole script: statements run in order in one scope.
type Program struct {
	Statements []Statement
	// File and Text are where the program came from, so that a later
	// stage (the check before it runs) can quote the line it blames.
	File string
	Text string
}

// Statement is a SELECT (possibly under EXPLAIN) or a LET.
type Statement interface {
	Node
	statement()
}

// SelectStmt is a top-level query.
type SelectStmt struct {
	Explain bool
	Select  *Select
}

// Let binds a name to a query or an expression. With Params it defines a
// function (or, with a query, a parameterised stored query).
type Let struct {
	P    source.Pos
	Name Name
	// HasParams is true for `LET F() = …`, which defines a function even
	// with no parameters.
	HasParams bool
	Params    []*Param
	// Materialize is true for `<=`: run or evaluate once, now.
	Materialize bool
	Query       *Select // set when the value is a SELECT
	Expr        Expr    // set otherwise
}

// Param is a parameter of a LET function, with an optional default.
type Param struct {
	Name    Name
	Default Expr
}

// Name is an identifier as written: Raw keeps backticks so the canonical
// form shows them, Value is what the program means by it.
type Name struct {
	Value string
	Raw   string
}

// Select is one query.
type Select struct {
	P       source.Pos
	Columns []*Column
	From    *PluginCall
	Where   Expr
	GroupBy []Expr
	OrderBy []*OrderKey
	// Limit is nil when the query has no LIMIT clause.
	Limit *int64

	// plan is what the engine derives from this query once (see Plan).
	plan atomic.Pointer[any]
}

// Plan returns what build derives from the query, calling build at most
// once per node that wins the race to store it. The engine keeps a
// SELECT's plan here rather than in a process-wide cache, so a plan lives
// exactly as long as the program that holds the query: a server answering
// a million distinct queries keeps none of their plans.
func (s *Select) Plan(build func(*Select) any) any {
	if p := s.plan.Load(); p != nil {
		return *p
	}
	v := build(s)
	if s.plan.CompareAndSwap(nil, &v) {
		return v
	}
	return *s.plan.Load()
}

// Column is one item of the SELECT list: `*` or an expression with an
// optional alias.
type Column struct {
	P     source.Pos
	Star  bool
	Expr  Expr
	Alias *Name
}

// Name returns the column's output name: the alias, or the canonical text
// of the expression with one layer of surrounding backticks removed (so
// `Hello World` names its column "Hello World").
func (c *Column) Name() string {
	if c.Alias != nil {
		return c.Alias.Value
	}
	s := c.Expr.String()
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return s[1 : len(s)-1]
	}
	return s
}

// OrderKey is one ORDER BY key.
type OrderKey struct {
	Expr Expr
	Desc bool
	// Dir is the direction as written ("", "ASC" or "DESC").
	Dir string
}

// PluginCall is the FROM clause: a dotted name and keyword arguments.
type PluginCall struct {
	P    source.Pos
	Name []Name
	// HasParens distinguishes `FROM X` (a variable may stand there) from
	// `FROM X()`.
	HasParens bool
	Args      []*Arg
}

// DottedName joins the parts of the name with dots.
func (p *PluginCall) DottedName() string {
	if len(p.Name) == 1 {
		return p.Name[0].Value
	}
	s := ""
	for i, n := range p.Name {
		if i > 0 {
			s += "."
		}
		s += n.Value
	}
	return s
}

// Arg is a keyword argument `name=value`.
type Arg struct {
	P     source.Pos
	Name  Name
	Value Expr
}

// Expr is any expression node.
type Expr interface {
	Node
	expr()
}

// Binary is a binary operator. Op is the canonical operator; Raw is the
// spelling used (`OR` or `||`), since the two differ in what they return.
type Binary struct {
	P     source.Pos
	Op    Op
	Raw   string
	Left  Expr
	Right Expr
}

// Unary is prefix `-`, `+` or NOT.
type Unary struct {
	P  source.Pos
	Op Op
	X  Expr
}

// Op names an operator.
type Op int

// Operators, loosest first within each group.
const (
	OpInvalid  Op = iota
	OpAnd         // AND
	OpAndValue    // &&
	OpOr          // OR
	OpOrValue     // ||
	OpNot
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpIn
	OpRegex
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
	OpNeg
	OpPlus
)

// Int is an integer literal.
type Int struct {
	P     source.Pos
	Value int64
	Raw   string
	boxed any
}

// NewInt makes an integer literal node.
func NewInt(p source.Pos, v int64, raw string) *Int { return &Int{P: p, Value: v, Raw: raw, boxed: v} }

// Any returns the value as an interface, boxed once at construction so
// that evaluating a literal on every row does not allocate.
func (e *Int) Any() any {
	if e.boxed == nil {
		return e.Value
	}
	return e.boxed
}

// Float is a floating point literal.
type Float struct {
	P     source.Pos
	Value float64
	Raw   string
	boxed any
}

// NewFloat makes a float literal node.
func NewFloat(p source.Pos, v float64, raw string) *Float {
	return &Float{P: p, Value: v, Raw: raw, boxed: v}
}

// Any returns the value as an interface (see Int.Any).
func (e *Float) Any() any {
	if e.boxed == nil {
		return e.Value
	}
	return e.boxed
}

// String is a string literal; Raw keeps the quotes and escapes as written.
type String struct {
	P     source.Pos
	Value string
	Raw   string
}

// Bool is TRUE or FALSE.
type Bool struct {
	P     source.Pos
	Value bool
	Raw   string
}

// Null is NULL.
type Null struct {
	P   source.Pos
	Raw string
}

// Ident is a name looked up in the scope.
type Ident struct {
	P    source.Pos
	Name Name
}

// Member is `X.name`.
type Member struct {
	P    source.Pos
	X    Expr
	Name Name
}

// Index is `X[i]`.
type Index struct {
	P     source.Pos
	X     Expr
	Index Expr
}

// Slice is `X[lo:hi]`; either bound may be nil.
type Slice struct {
	P      source.Pos
	X      Expr
	Lo, Hi Expr
}

// Call is a function call `f(k=v, …)`.
type Call struct {
	P    source.Pos
	Name Name
	Args []*Arg
}

// Array is a list literal `(1, 2)`, `[1, 2]` or `(1,)`.
type Array struct {
	P        source.Pos
	Elems    []Expr
	Brackets bool
	// Trailing is set when the list ends with a comma, `(1,)`.
	Trailing bool
}

// Paren is a parenthesised single expression `(x)` (or `[x]`, which
// vfilter reads the same way).
type Paren struct {
	P        source.Pos
	X        Expr
	Brackets bool
}

// SubSelect is a query used as a value: `{ SELECT … }`.
type SubSelect struct {
	P      source.Pos
	Select *Select
}

func (*SelectStmt) statement() {}
func (*Let) statement()        {}

func (*Binary) expr()    {}
func (*Unary) expr()     {}
func (*Int) expr()       {}
func (*Float) expr()     {}
func (*String) expr()    {}
func (*Bool) expr()      {}
func (*Null) expr()      {}
func (*Ident) expr()     {}
func (*Member) expr()    {}
func (*Index) expr()     {}
func (*Slice) expr()     {}
func (*Call) expr()      {}
func (*Array) expr()     {}
func (*Paren) expr()     {}
func (*SubSelect) expr() {}

// Pos returns the position of the SELECT keyword.
func (s *SelectStmt) Pos() source.Pos { return s.Select.P }

// Pos returns the position of the LET keyword.
func (s *Let) Pos() source.Pos { return s.P }

// Pos returns where the Select starts.
func (s *Select) Pos() source.Pos { return s.P }

// Pos returns where the Column starts.
func (c *Column) Pos() source.Pos { return c.P }

// Pos returns where the PluginCall starts.
func (p *PluginCall) Pos() source.Pos { return p.P }

// Pos returns where the Arg starts.
func (a *Arg) Pos() source.Pos { return a.P }

// Pos returns where the Binary starts.
func (e *Binary) Pos() source.Pos { return e.P }

// Pos returns where the Unary starts.
func (e *Unary) Pos() source.Pos { return e.P }

// Pos returns where the Int starts.
func (e *Int) Pos() source.Pos { return e.P }

// Pos returns where the Float starts.
func (e *Float) Pos() source.Pos { return e.P }

// Pos returns where the String starts.
func (e *String) Pos() source.Pos { return e.P }

// Pos returns where the Bool starts.
func (e *Bool) Pos() source.Pos { return e.P }

// Pos returns where the Null starts.
func (e *Null) Pos() source.Pos { return e.P }

// Pos returns where the Ident starts.
func (e *Ident) Pos() source.Pos { return e.P }

// Pos returns where the Member starts.
func (e *Member) Pos() source.Pos { return e.P }

// Pos returns where the Index starts.
func (e *Index) Pos() source.Pos { return e.P }

// Pos returns where the Slice starts.
func (e *Slice) Pos() source.Pos { return e.P }

// Pos returns where the Call starts.
func (e *Call) Pos() source.Pos { return e.P }

// Pos returns where the Array starts.
func (e *Array) Pos() source.Pos { return e.P }

// Pos returns where the Paren starts.
func (e *Paren) Pos() source.Pos { return e.P }

// Pos returns where the SubSelect starts.
func (e *SubSelect) Pos() source.Pos { return e.P }
