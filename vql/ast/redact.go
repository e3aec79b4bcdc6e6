package ast

import (
	"fmt"
	"strings"
)

// RedactedValue is what Redacted writes in place of a secret value.
const RedactedValue = "'***'"

// secretNames are argument (and dict field) names that hold secrets,
// lower case; secretParts are parts of a name that mark it as one.
var (
	secretNames = map[string]bool{
		"headers": true, "key": true, "authorization": true, "auth": true, "cookie": true,
		"credentials": true, "credential": true,
	}
	secretParts = []string{"secret", "password", "passwd", "token", "apikey", "api_key", "api-key",
		"private_key", "access_key"}
)

// SecretName reports whether an argument or dict field of this name holds
// a secret, case-insensitively: headers, key, authorization, auth, cookie,
// credentials, or any name containing secret, password, passwd, token,
// apikey, api_key, private_key or access_key.
func SecretName(name string) bool {
	n := strings.ToLower(strings.Trim(name, "`"))
	if secretNames[n] {
		return true
	}
	for _, p := range secretParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// Redacted is the canonical text of a node (see format.go) with the value of
// every argument whose name is a SecretName written as '***': a plugin's or
// function's argument (`http_client(url=U, password='***')`), a field of a
// dict (`dict(token='***')`), a LET parameter's default. A secret argument
// whose value is a dict() keeps its field names and loses every value, so
// `headers=dict(Authorization='Bearer X', Accept='json')` prints as
// `headers=dict(Authorization='***', Accept='***')`.
//
// Only named values are recognised: a secret written into a longer string
// (`format(format='Bearer %s', args=…)`, a URL with a password) is printed
// as it is.
//
// n is a Node or a *Program; anything else prints as "".
func Redacted(n fmt.Stringer) string {
	switch n := n.(type) {
	case *Program:
		if n == nil {
			return ""
		}
		parts := make([]string, len(n.Statements))
		for i, s := range n.Statements {
			parts[i] = redactNode(s).String()
		}
		return strings.Join(parts, "\n")
	case Node:
		return redactNode(n).String()
	}
	return ""
}

// redactedString stands for a hidden value.
var redactedString = &String{Value: "***", Raw: RedactedValue}

func redactNode(n Node) Node {
	switch n := n.(type) {
	case *SelectStmt:
		return &SelectStmt{Explain: n.Explain, Select: redactSelect(n.Select)}
	case *Let:
		c := *n
		c.Params = make([]*Param, len(n.Params))
		for i, p := range n.Params {
			q := *p
			if q.Default != nil {
				if SecretName(p.Name.Value) {
					q.Default = hideValue(p.Default)
				} else {
					q.Default = redactExpr(p.Default)
				}
			}
			c.Params[i] = &q
		}
		if n.Query != nil {
			c.Query = redactSelect(n.Query)
		}
		if n.Expr != nil {
			c.Expr = redactExpr(n.Expr)
		}
		return &c
	case *Select:
		return redactSelect(n)
	case *Column:
		return redactColumn(n)
	case *PluginCall:
		return redactPluginCall(n)
	case *Arg:
		return redactArg(n)
	case Expr:
		return redactExpr(n)
	}
	return n
}

func redactSelect(s *Select) *Select {
	if s == nil {
		return nil
	}
	// A new node, not a copy: the plan of s belongs to s.
	c := Select{P: s.P, Limit: s.Limit}
	c.Columns = make([]*Column, len(s.Columns))
	for i, col := range s.Columns {
		c.Columns[i] = redactColumn(col)
	}
	c.From = redactPluginCall(s.From)
	c.Where = redactExpr(s.Where)
	c.GroupBy = redactExprs(s.GroupBy)
	c.OrderBy = make([]*OrderKey, len(s.OrderBy))
	for i, k := range s.OrderBy {
		kk := *k
		kk.Expr = redactExpr(k.Expr)
		c.OrderBy[i] = &kk
	}
	return &c
}

func redactColumn(col *Column) *Column {
	if col == nil || col.Star {
		return col
	}
	c := *col
	c.Expr = redactExpr(col.Expr)
	return &c
}

func redactPluginCall(p *PluginCall) *PluginCall {
	if p == nil {
		return nil
	}
	c := *p
	c.Args = redactArgs(p.Args)
	return &c
}

func redactArgs(args []*Arg) []*Arg {
	if args == nil {
		return nil
	}
	out := make([]*Arg, len(args))
	for i, a := range args {
		out[i] = redactArg(a)
	}
	return out
}

func redactArg(a *Arg) *Arg {
	c := *a
	if SecretName(a.Name.Value) {
		c.Value = hideValue(a.Value)
	} else {
		c.Value = redactExpr(a.Value)
	}
	return &c
}

// hideValue is the value of a secret argument: a dict() with its field
// names kept and every value hidden, or '***'.
func hideValue(e Expr) Expr {
	if call, ok := e.(*Call); ok && strings.EqualFold(call.Name.Value, "dict") {
		c := *call
		c.Args = make([]*Arg, len(call.Args))
		for i, a := range call.Args {
			aa := *a
			aa.Value = redactedString
			c.Args[i] = &aa
		}
		return &c
	}
	return redactedString
}

func redactExprs(es []Expr) []Expr {
	if es == nil {
		return nil
	}
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = redactExpr(e)
	}
	return out
}

// redactExpr copies the parts of an expression that hold arguments; the
// leaves (literals, names) are shared with the original.
func redactExpr(e Expr) Expr {
	switch e := e.(type) {
	case nil:
		return nil
	case *Binary:
		c := *e
		c.Left, c.Right = redactExpr(e.Left), redactExpr(e.Right)
		return &c
	case *Unary:
		c := *e
		c.X = redactExpr(e.X)
		return &c
	case *Member:
		c := *e
		c.X = redactExpr(e.X)
		return &c
	case *Index:
		c := *e
		c.X, c.Index = redactExpr(e.X), redactExpr(e.Index)
		return &c
	case *Slice:
		c := *e
		c.X, c.Lo, c.Hi = redactExpr(e.X), redactExpr(e.Lo), redactExpr(e.Hi)
		return &c
	case *Call:
		c := *e
		c.Args = redactArgs(e.Args)
		return &c
	case *Array:
		c := *e
		c.Elems = redactExprs(e.Elems)
		return &c
	case *Paren:
		c := *e
		c.X = redactExpr(e.X)
		return &c
	case *SubSelect:
		c := *e
		c.Select = redactSelect(e.Select)
		return &c
	}
	return e
}
