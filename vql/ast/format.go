package ast

import (
	"strconv"
	"strings"
)

// The canonical form follows vfilter's formatter, because users see it as the
// name of every unaliased column: single spaces around binary operators,
// literals and identifiers exactly as written (quotes, backticks, number
// spelling), `{ SELECT … }` for sub-queries. One quirk is kept on purpose:
// vfilter writes a space after `LIMIT n`, so a sub-query with a limit prints
// as `{ SELECT … LIMIT 1  }`, and column names depend on it.

var opText = map[Op]string{
	OpAnd: "AND", OpAndValue: "&&", OpOr: "OR", OpOrValue: "||", OpNot: "NOT",
	OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpIn: "IN", OpRegex: "=~", OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/",
	OpMod: "%", OpNeg: "-", OpPlus: "+",
}

// String returns the operator as the canonical form writes it.
func (o Op) String() string { return opText[o] }

// String formats the whole program, one statement per line.
func (p *Program) String() string {
	parts := make([]string, len(p.Statements))
	for i, s := range p.Statements {
		parts[i] = s.String()
	}
	return strings.Join(parts, "\n")
}

// String is the canonical text of the SelectStmt.
func (s *SelectStmt) String() string {
	if s.Explain {
		return "EXPLAIN " + s.Select.String()
	}
	return s.Select.String()
}

// String is the canonical text of the Let.
func (s *Let) String() string {
	var b strings.Builder
	b.WriteString("LET ")
	b.WriteString(s.Name.Raw)
	if s.HasParams {
		b.WriteByte('(')
		for i, p := range s.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.Name.Raw)
			if p.Default != nil {
				b.WriteByte('=')
				b.WriteString(p.Default.String())
			}
		}
		b.WriteByte(')')
	}
	if s.Materialize {
		b.WriteString(" <= ")
	} else {
		b.WriteString(" = ")
	}
	if s.Query != nil {
		b.WriteString(s.Query.String())
	} else {
		b.WriteString(s.Expr.String())
	}
	return b.String()
}

// String is the canonical text of the Select.
func (s *Select) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
	}
	b.WriteString(" FROM ")
	b.WriteString(s.From.String())
	if s.Where != nil {
		b.WriteString(" WHERE ")
		b.WriteString(s.Where.String())
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		for i, g := range s.GroupBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(g.String())
		}
	}
	if len(s.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		for i, k := range s.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.Expr.String())
			if k.Dir != "" {
				b.WriteByte(' ')
				b.WriteString(strings.ToUpper(k.Dir))
			}
		}
	}
	if s.Limit != nil {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.FormatInt(*s.Limit, 10))
		b.WriteByte(' ')
	}
	return b.String()
}

// String is the canonical text of the Column.
func (c *Column) String() string {
	if c.Star {
		return "*"
	}
	if c.Alias != nil {
		return c.Expr.String() + " AS " + c.Alias.Raw
	}
	return c.Expr.String()
}

// String is the canonical text of the PluginCall.
func (p *PluginCall) String() string {
	var b strings.Builder
	for i, n := range p.Name {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(n.Raw)
	}
	if p.HasParens {
		writeArgs(&b, p.Args)
	}
	return b.String()
}

func writeArgs(b *strings.Builder, args []*Arg) {
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
}

// String is the canonical text of the Arg.
func (a *Arg) String() string { return a.Name.Raw + "=" + a.Value.String() }

// Binary operators keep their spelling (`<>`, `or`), except IN, which is
// upper-cased. AND is preceded by two spaces: vfilter's formatter emits a
// line-break point there that collapses to a space.
func (e *Binary) String() string {
	op := e.Raw
	switch {
	case op == "":
		op = e.Op.String()
	case e.Op == OpIn:
		op = "IN"
	}
	if e.Op == OpAnd || e.Op == OpAndValue {
		return e.Left.String() + "  " + op + " " + e.Right.String()
	}
	return e.Left.String() + " " + op + " " + e.Right.String()
}

// String is the canonical text of the Unary.
func (e *Unary) String() string {
	if e.Op == OpNot {
		return "NOT " + e.X.String()
	}
	x := e.X.String()
	if strings.HasPrefix(x, "-") || strings.HasPrefix(x, "+") {
		// `- -1`, not `--1`, which would read back as a comment.
		return e.Op.String() + " " + x
	}
	return e.Op.String() + x
}

// String prints an integer in decimal whatever its spelling (0x10 is 16).
func (e *Int) String() string { return strconv.FormatInt(e.Value, 10) }

// String prints a float in its shortest form, always with a decimal point.
func (e *Float) String() string {
	s := strconv.FormatFloat(e.Value, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// String is the canonical text of the String.
func (e *String) String() string { return e.Raw }

// String is the canonical text of the Bool.
func (e *Bool) String() string { return e.Raw }

// String is the canonical text of the Null.
func (e *Null) String() string { return "NULL" }

// String is the canonical text of the Ident.
func (e *Ident) String() string { return e.Name.Raw }

// String is the canonical text of the Member.
func (e *Member) String() string { return e.X.String() + "." + e.Name.Raw }

// String is the canonical text of the Index.
func (e *Index) String() string { return e.X.String() + "[" + e.Index.String() + "]" }

// String is the canonical text of the Slice.
func (e *Slice) String() string {
	var b strings.Builder
	b.WriteString(e.X.String())
	b.WriteByte('[')
	if e.Lo != nil {
		b.WriteString(e.Lo.String())
	}
	b.WriteByte(':')
	if e.Hi != nil {
		b.WriteString(e.Hi.String())
	}
	b.WriteByte(']')
	return b.String()
}

// String is the canonical text of the Call.
func (e *Call) String() string {
	var b strings.Builder
	b.WriteString(e.Name.Raw)
	writeArgs(&b, e.Args)
	return b.String()
}

// String is the canonical text of the Array.
func (e *Array) String() string {
	var b strings.Builder
	open, closer := byte('('), byte(')')
	if e.Brackets {
		open, closer = '[', ']'
	}
	b.WriteByte(open)
	for i, x := range e.Elems {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.String())
	}
	if e.Trailing {
		b.WriteString(", ")
	}
	b.WriteByte(closer)
	return b.String()
}

// String is the canonical text of the Paren.
func (e *Paren) String() string {
	if e.Brackets {
		return "[" + e.X.String() + "]"
	}
	return "(" + e.X.String() + ")"
}

// String is the canonical text of the SubSelect.
func (e *SubSelect) String() string { return "{ " + e.Select.String() + " }" }
