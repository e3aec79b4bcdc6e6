// Package vqltest runs VQL for tests: a program on an engine, giving the
// rows of its last SELECT as JSON and what the query logged.
package vqltest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// Run runs text in a new session of e with opts (their OnLog is
// replaced) and returns the rows of the last statement that gave rows,
// as a JSON array, and the log messages. A text that does not parse fails
// the test.
func Run(t testing.TB, e *vql.Engine, opts vql.SessionOptions, text string) (string, []string) {
	t.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	var mu sync.Mutex
	var logs []string
	opts.OnLog = func(m vql.Message) {
		mu.Lock()
		logs = append(logs, m.String())
		mu.Unlock()
	}
	s := e.NewSession(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rows := []any{}
	last := -1
	for r := range s.Run(ctx, prog) {
		if r.Statement != last {
			rows, last = []any{}, r.Statement
		}
		rows = append(rows, r.Row)
	}
	b, err := output.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return string(b), append([]string(nil), logs...)
}
