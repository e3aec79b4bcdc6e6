package vql

import (
	"context"
	"fmt"
	"strings"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
)

// Lambda is one of Velociraptor's callbacks written as text, `x => x * 2`
// or `(k, v) => k + v`: filter(condition=…), batch(batch_func=…),
// query(exit=…) and others take one. The body is a VQL expression
// evaluated in the caller's scope with the parameters bound. It lives in
// package vql so that plugins and functions share it.
type Lambda struct {
	Params []string
	Body   ast.Expr
}

// ParseLambda parses `params => expression`.
func ParseLambda(text string) (*Lambda, error) {
	head, body, ok := strings.Cut(text, "=>")
	if !ok {
		return nil, fmt.Errorf("lambda %q: want params => expression", text)
	}
	head = strings.TrimSpace(head)
	head = strings.TrimSuffix(strings.TrimPrefix(head, "("), ")")
	l := &Lambda{}
	for _, p := range strings.Split(head, ",") {
		p = strings.TrimSpace(p)
		if p == "" || strings.ContainsAny(p, " \t()'\"") {
			return nil, fmt.Errorf("lambda %q: bad parameter %q", text, p)
		}
		l.Params = append(l.Params, p)
	}
	expr, err := parser.ParseExpr(strings.TrimSpace(body))
	if err != nil {
		return nil, fmt.Errorf("lambda %q: %v", text, err)
	}
	l.Body = expr
	return l, nil
}

// Eval evaluates the lambda in scope with args bound to its parameters in
// order (missing ones are NULL), and materialises the result.
func (l *Lambda) Eval(ctx context.Context, scope *Scope, args ...any) any {
	vars := make(map[string]any, len(l.Params))
	for i, p := range l.Params {
		if i < len(args) {
			vars[p] = args[i]
		} else {
			vars[p] = nil
		}
	}
	return scope.Materialize(ctx, scope.WithVars(vars).Eval(ctx, l.Body))
}

// LambdaArg reads a lambda argument of a call; ok is false when it is
// absent, and when it does not parse (the error is logged, naming callee
// and argument).
func LambdaArg(scope *Scope, args *Args, callee, name string) (l *Lambda, ok bool) {
	if !args.Has(name) {
		return nil, false
	}
	text := args.String(name, "")
	if args.Failed() {
		return nil, false
	}
	l, err := ParseLambda(text)
	if err != nil {
		scope.Errorf("%s: %s: %v", callee, name, err)
		return nil, false
	}
	return l, true
}
