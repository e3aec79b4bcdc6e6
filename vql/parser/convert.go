package parser

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/source"
)

type converter struct {
	text, file string
}

func (c *converter) errorf(p source.Pos, format string, args ...any) error {
	return &source.Error{File: c.file, Pos: p, Msg: fmt.Sprintf(format, args...), Text: c.text}
}

func (c *converter) statement(s *gStatement) (ast.Statement, error) {
	if s.Let != nil {
		return c.let(s.Let)
	}
	sel, err := c.selectQ(s.Select)
	if err != nil {
		return nil, err
	}
	return &ast.SelectStmt{Explain: s.Explain, Select: sel}, nil
}

func (c *converter) let(l *gLet) (*ast.Let, error) {
	out := &ast.Let{P: pos(l.Pos), Name: name(l.Name), HasParams: l.HasParams, Materialize: l.Op == "<="}
	for _, p := range l.Params {
		param := &ast.Param{Name: name(p.Name)}
		if p.Default != nil {
			d, err := c.and(p.Default)
			if err != nil {
				return nil, err
			}
			param.Default = d
		}
		out.Params = append(out.Params, param)
	}
	var err error
	if l.Select != nil {
		out.Query, err = c.selectQ(l.Select)
	} else {
		out.Expr, err = c.comma(l.Expr)
	}
	return out, err
}

func (c *converter) selectQ(s *gSelect) (*ast.Select, error) {
	out := &ast.Select{P: pos(s.Pos)}
	for _, col := range flatColumns(s.Columns) {
		oc := &ast.Column{P: pos(col.Pos), Star: col.Star}
		if !col.Star {
			e, err := c.and(col.Expr)
			if err != nil {
				return nil, err
			}
			oc.Expr = e
		}
		if col.Alias != "" {
			if col.Star {
				return nil, c.errorf(pos(col.Pos), "* cannot have an alias")
			}
			n := name(col.Alias)
			oc.Alias = &n
		}
		out.Columns = append(out.Columns, oc)
	}
	from, err := c.plugin(s.From)
	if err != nil {
		return nil, err
	}
	out.From = from
	if s.Where != nil {
		if out.Where, err = c.comma(s.Where); err != nil {
			return nil, err
		}
	}
	for _, g := range s.GroupBy {
		e, err := c.and(g)
		if err != nil {
			return nil, err
		}
		out.GroupBy = append(out.GroupBy, e)
	}
	for _, o := range s.OrderBy {
		e, err := c.and(o.Expr)
		if err != nil {
			return nil, err
		}
		out.OrderBy = append(out.OrderBy, &ast.OrderKey{Expr: e, Dir: o.Dir, Desc: strings.EqualFold(o.Dir, "DESC")})
	}
	if s.Limit != nil {
		n, err := strconv.ParseInt(s.Limit.Value, 0, 64)
		if err != nil || n < 0 {
			return nil, c.errorf(pos(s.Limit.Pos), "LIMIT %s is not a valid row count", s.Limit.Value)
		}
		out.Limit = &n
	}
	return out, nil
}

// flatColumns lists the columns in order, those written after `*`
// without a comma (gColumn.After) in their place.
func flatColumns(cols []*gColumn) []*gColumn {
	var out []*gColumn
	for _, col := range cols {
		for ; col != nil; col = col.After {
			out = append(out, col)
		}
	}
	return out
}

func (c *converter) plugin(p *gPlugin) (*ast.PluginCall, error) {
	out := &ast.PluginCall{P: pos(p.Pos), HasParens: p.HasParens}
	for _, n := range p.Name {
		out.Name = append(out.Name, name(n))
	}
	args, err := c.args(p.Args)
	out.Args = args
	return out, err
}

func (c *converter) args(in []*gArg) ([]*ast.Arg, error) {
	var out []*ast.Arg
	for _, a := range in {
		v, err := c.and(a.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, &ast.Arg{P: pos(a.Pos), Name: name(a.Name), Value: v})
	}
	return out, nil
}

func (c *converter) comma(g *gComma) (ast.Expr, error) {
	head, err := c.and(g.Head)
	if err != nil {
		return nil, err
	}
	if len(g.Tail) == 0 && !g.Trailing {
		return head, nil
	}
	arr := &ast.Array{P: pos(g.Pos), Elems: []ast.Expr{head}, Trailing: g.Trailing}
	for _, t := range g.Tail {
		e, err := c.and(t)
		if err != nil {
			return nil, err
		}
		arr.Elems = append(arr.Elems, e)
	}
	return arr, nil
}

// binaryOps maps an operator's spelling to the operator and its
// precedence (higher binds tighter). AND is looser than OR: VQL's rule.
var binaryOps = map[string]struct {
	op   ast.Op
	prec int
}{
	"AND": {ast.OpAnd, 2}, "&&": {ast.OpAndValue, 2},
	"OR": {ast.OpOr, 3}, "||": {ast.OpOrValue, 3},
	"=": {ast.OpEq, 5}, "!=": {ast.OpNe, 5}, "<>": {ast.OpNe, 5}, "<": {ast.OpLt, 5},
	"<=": {ast.OpLe, 5}, ">": {ast.OpGt, 5}, ">=": {ast.OpGe, 5}, "=~": {ast.OpRegex, 5}, "IN": {ast.OpIn, 5},
	"+": {ast.OpAdd, 6}, "-": {ast.OpSub, 6},
	"*": {ast.OpMul, 7}, "/": {ast.OpDiv, 7}, "%": {ast.OpMod, 7},
}

// precNot is where prefix NOT binds: looser than comparisons, tighter than
// OR, so `NOT a = b` is `NOT (a = b)` and `NOT a OR b` is `(NOT a) OR b`.
const precNot = 5

func binaryOp(raw string) (ast.Op, int) {
	b := binaryOps[strings.ToUpper(raw)]
	return b.op, b.prec
}

// climber gives a flat gExpr its structure by precedence climbing. Binary
// operators are left-associative.
type climber struct {
	c        *converter
	operands []*gOperand
	ops      []*gBinOp
	k        int // next operand
	prefix   int // next prefix of operand k
	err      error
}

func (c *converter) and(g *gExpr) (ast.Expr, error) {
	cl := &climber{c: c, operands: append([]*gOperand{g.Head}, make([]*gOperand, 0, len(g.Tail))...), ops: g.Tail}
	for _, t := range g.Tail {
		cl.operands = append(cl.operands, t.Right)
	}
	e := cl.climb(0)
	return e, cl.err
}

func (cl *climber) climb(minPrec int) ast.Expr {
	left := cl.unary()
	// unary consumed operand k-1; the operator after it is ops[k-1].
	for cl.err == nil && cl.k-1 < len(cl.ops) {
		g := cl.ops[cl.k-1]
		op, prec := binaryOp(g.Op)
		if prec < minPrec {
			break
		}
		right := cl.climb(prec + 1)
		left = &ast.Binary{P: pos(g.Pos), Op: op, Raw: g.Op, Left: left, Right: right}
	}
	return left
}

// unary reads the prefixes of the current operand, then the operand. NOT
// takes everything that binds tighter than it; - and + take one operand.
func (cl *climber) unary() ast.Expr {
	o := cl.operands[cl.k]
	if len(o.Prefix) > MaxDepth {
		if cl.err == nil {
			cl.err = cl.c.errorf(pos(o.Pos), "more than %d prefix operators in a row", MaxDepth)
		}
		cl.k = len(cl.operands) - 1
		o = cl.operands[cl.k]
		cl.prefix = len(o.Prefix)
	}
	if cl.prefix < len(o.Prefix) {
		p := o.Prefix[cl.prefix]
		cl.prefix++
		at := pos(o.Pos)
		switch strings.ToUpper(p) {
		case "NOT":
			return &ast.Unary{P: at, Op: ast.OpNot, X: cl.climb(precNot)}
		case "-":
			return &ast.Unary{P: at, Op: ast.OpNeg, X: cl.unary()}
		default:
			return &ast.Unary{P: at, Op: ast.OpPlus, X: cl.unary()}
		}
	}
	cl.k++
	cl.prefix = 0
	x, err := cl.c.postfix(o)
	if err != nil && cl.err == nil {
		cl.err = err
	}
	return x
}

func (c *converter) postfix(g *gOperand) (ast.Expr, error) {
	x, err := c.primary(g.Primary)
	if err != nil {
		return nil, err
	}
	for _, op := range g.Ops {
		p := pos(op.Pos)
		if !op.Open {
			x = &ast.Member{P: p, X: x, Name: name(op.Member)}
			continue
		}
		var lo, hi ast.Expr
		if op.Lo != nil {
			if lo, err = c.and(op.Lo); err != nil {
				return nil, err
			}
		}
		if op.Hi != nil {
			if hi, err = c.and(op.Hi); err != nil {
				return nil, err
			}
		}
		switch {
		case op.Colon:
			x = &ast.Slice{P: p, X: x, Lo: lo, Hi: hi}
		case lo != nil && hi == nil:
			x = &ast.Index{P: p, X: x, Index: lo}
		default:
			return nil, c.errorf(p, "an index needs exactly one expression inside [ ]")
		}
	}
	return x, nil
}

func (c *converter) primary(g *gPrimary) (ast.Expr, error) {
	p := pos(g.Pos)
	switch {
	case g.SubSelect != nil:
		s, err := c.selectQ(g.SubSelect)
		if err != nil {
			return nil, err
		}
		return &ast.SubSelect{P: p, Select: s}, nil
	case g.Paren != nil:
		return c.group(p, g.Paren, false)
	case g.Bracket != nil:
		return c.group(p, g.Bracket, true)
	case g.Float != nil:
		v, err := strconv.ParseFloat(*g.Float, 64)
		if err != nil {
			return nil, c.errorf(p, "invalid number %s", *g.Float)
		}
		return ast.NewFloat(p, v, *g.Float), nil
	case g.Int != nil:
		return c.integer(p, *g.Int)
	case g.Raw != nil:
		raw := *g.Raw
		return &ast.String{P: p, Value: raw[3 : len(raw)-3], Raw: raw}, nil
	case g.String != nil:
		return &ast.String{P: p, Value: unescape((*g.String)[1 : len(*g.String)-1]), Raw: *g.String}, nil
	case g.Keyword != nil:
		switch strings.ToUpper(*g.Keyword) {
		case "TRUE":
			return &ast.Bool{P: p, Value: true, Raw: *g.Keyword}, nil
		case "FALSE":
			return &ast.Bool{P: p, Value: false, Raw: *g.Keyword}, nil
		}
		return &ast.Null{P: p, Raw: *g.Keyword}, nil
	}
	if !g.IsCall {
		return &ast.Ident{P: p, Name: name(g.Name)}, nil
	}
	args, err := c.args(g.Args)
	if err != nil {
		return nil, err
	}
	return &ast.Call{P: p, Name: name(g.Name), Args: args}, nil
}

func (c *converter) group(p source.Pos, g *gGroup, brackets bool) (ast.Expr, error) {
	if g.List == nil {
		return &ast.Array{P: p, Brackets: brackets}, nil
	}
	e, err := c.comma(g.List)
	if err != nil {
		return nil, err
	}
	if arr, ok := e.(*ast.Array); ok && arr.P == pos(g.List.Pos) {
		arr.Brackets = brackets
		arr.P = p
		return arr, nil
	}
	return &ast.Paren{P: p, X: e, Brackets: brackets}, nil
}

// integer accepts decimal, 0x hex and leading-0 octal like vfilter. A
// value too large for int64 (common for 64-bit masks) becomes a float
// rather than an error.
func (c *converter) integer(p source.Pos, raw string) (ast.Expr, error) {
	v, err := strconv.ParseInt(raw, 0, 64)
	if err == nil {
		return ast.NewInt(p, v, raw), nil
	}
	if u, uerr := strconv.ParseUint(raw, 0, 64); uerr == nil {
		if u <= math.MaxInt64 {
			return ast.NewInt(p, int64(u), raw), nil
		}
		return ast.NewFloat(p, float64(u), raw), nil
	}
	// "08" is not octal; read it as decimal.
	if d, derr := strconv.ParseInt(strings.TrimLeft(raw, "0"), 10, 64); derr == nil {
		return ast.NewInt(p, d, raw), nil
	}
	if f, ferr := strconv.ParseFloat(raw, 64); ferr == nil {
		return ast.NewFloat(p, f, raw), nil
	}
	return nil, c.errorf(p, "invalid number %s", raw)
}

func name(raw string) ast.Name {
	if len(raw) >= 2 && raw[0] == '`' && raw[len(raw)-1] == '`' {
		return ast.Name{Value: raw[1 : len(raw)-1], Raw: raw}
	}
	return ast.Name{Value: raw, Raw: raw}
}

// unescape interprets backslash escapes in a quoted string as vfilter
// does: \xHH gives a raw byte (VQL strings carry binary data), \n \r \t
// their control characters, and any other escaped character stands for
// itself, so regular expressions are best written in triple-quoted raw
// strings.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '\\' {
			b.WriteByte(ch)
			continue
		}
		if i+1 >= len(s) {
			break
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteString(`\x`)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
