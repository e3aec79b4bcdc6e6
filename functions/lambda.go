package functions

import (
	"sync"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Lambdas are Velociraptor's callbacks written as text, `x => x * 2` or
// `(k, v) => k + v`: filter(condition=…), regex_replace(replace_lambda=…)
// and others take one (see vql.Lambda).

// lambda is vql.Lambda, parsed once per text and called with a call's
// context and scope.
type lambda struct{ *vql.Lambda }

// lambdas caches parsed lambda texts: a filter over a long list parses its
// condition once.
var lambdas = newTextCache[*lambda]()

func parseLambda(text string) (*lambda, error) {
	if l, ok := lambdas.get(text); ok {
		return l, nil
	}
	parsed, err := vql.ParseLambda(text)
	if err != nil {
		return nil, err
	}
	l := &lambda{parsed}
	lambdas.put(text, l)
	return l, nil
}

// call evaluates the lambda with args bound to its parameters in order
// (missing ones are NULL).
func (l *lambda) call(c call, args ...any) any { return l.Eval(c.ctx, c.scope, args...) }

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
