package functions

import (
	"fmt"
	"strings"
	"sync"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// Lambdas are Velociraptor's callbacks written as text, `x => x * 2` or
// `(k, v) => k + v`: filter(condition=…), regex_replace(replace_lambda=…)
// and others take one. The body is a VQL expression evaluated in the
// caller's scope with the parameters bound.

type lambda struct {
	params []string
	body   ast.Expr
}

// lambdas caches parsed lambda texts: a filter over a long list parses its
// condition once.
var lambdas = newTextCache[*lambda]()

func parseLambda(text string) (*lambda, error) {
	if l, ok := lambdas.get(text); ok {
		return l, nil
	}
	head, body, ok := strings.Cut(text, "=>")
	if !ok {
		return nil, fmt.Errorf("lambda %q: want params => expression", text)
	}
	head = strings.TrimSpace(head)
	head = strings.TrimSuffix(strings.TrimPrefix(head, "("), ")")
	l := &lambda{}
	for _, p := range strings.Split(head, ",") {
		p = strings.TrimSpace(p)
		if p == "" || strings.ContainsAny(p, " \t()'\"") {
			return nil, fmt.Errorf("lambda %q: bad parameter %q", text, p)
		}
		l.params = append(l.params, p)
	}
	expr, err := parser.ParseExpr(strings.TrimSpace(body))
	if err != nil {
		return nil, fmt.Errorf("lambda %q: %v", text, err)
	}
	l.body = expr
	lambdas.put(text, l)
	return l, nil
}

// call evaluates the lambda with args bound to its parameters in order
// (missing ones are NULL).
func (l *lambda) call(c call, args ...any) any {
	vars := make(map[string]any, len(l.params))
	for i, p := range l.params {
		if i < len(args) {
			vars[p] = args[i]
		} else {
			vars[p] = nil
		}
	}
	return c.scope.Materialize(c.ctx, c.scope.WithVars(vars).Eval(c.ctx, l.body))
}

// lambdaArg reads a lambda argument; ok is false (and the error logged)
// when it does not parse.
func lambdaArg(c call, name string) (*lambda, bool) {
	text := c.args.String(name, "")
	if c.args.Failed() {
		return nil, false
	}
	l, err := parseLambda(text)
	if err != nil {
		c.scope.Errorf("%s: %s: %v", c.name(), name, err)
		return nil, false
	}
	return l, true
}

func (l *lambda) truthy(c call, args ...any) bool { return value.Truthy(l.call(c, args...)) }

// textCache keeps values parsed from text (profiles, expressions) so that
// a query over many rows parses its text once. It holds at most 1000
// entries, then starts afresh.
type textCache[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

func newTextCache[T any]() *textCache[T] { return &textCache[T]{m: map[string]T{}} }

func (t *textCache[T]) get(k string) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[k]
	return v, ok
}

func (t *textCache[T]) put(k string, v T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= 1000 {
		t.m = map[string]T{}
	}
	t.m[k] = v
}
