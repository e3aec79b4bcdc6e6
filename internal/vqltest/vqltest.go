// Package vqltest runs VQL through a fresh engine for table tests: each
// case compares the JSON of its last statement's rows exactly and checks
// what was logged.
package vqltest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// Case is one query of a table: {name, query, want, log}. want is the
// JSON of the rows of the query's last statement; log, when not empty, is
// text one log message must hold — when empty, no ERROR may be logged.
// (An array rather than a struct, so tables stay positional.)
type Case [4]string

// Run runs every case in a fresh engine and session and compares the
// rows of the last statement exactly.
func Run(t *testing.T, cases []Case) {
	t.Helper()
	RunWith(t, vql.SessionOptions{}, cases)
}

// RunWith is Run in sessions with opts (an identity that holds the
// permissions the calls need, say).
func RunWith(t *testing.T, opts vql.SessionOptions, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		name, query, want, log := tc[0], tc[1], tc[2], tc[3]
		t.Run(name, func(t *testing.T) {
			got, logs := RowsWith(t, opts, query)
			if got != want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", query, got, want, logs)
			}
			if log != "" && !containsAny(logs, log) {
				t.Errorf("%s: no log holds %q; logs: %q", query, log, logs)
			}
			if log == "" {
				for _, l := range logs {
					if strings.Contains(l, "ERROR") {
						t.Errorf("%s: unexpected error %q", query, l)
					}
				}
			}
		})
	}
}

func containsAny(logs []string, s string) bool {
	for _, l := range logs {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// Rows runs text and returns the rows of its last statement as
// JSON, and the log messages.
func Rows(t *testing.T, text string) (string, []string) {
	t.Helper()
	return RowsWith(t, vql.SessionOptions{}, text)
}

// RowsWith is Rows in a session with opts (their OnLog is the test's).
func RowsWith(t *testing.T, opts vql.SessionOptions, text string) (string, []string) {
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
	s := vqlq.NewEngine().NewSession(opts)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rows, last := []any{}, -1
	for r := range s.Run(ctx, prog) {
		if r.Statement != last {
			rows, last = []any{}, r.Statement
		}
		rows = append(rows, r.Row)
	}
	b, err := value.EncodeJSON(rows)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return string(b), append([]string(nil), logs...)
}

// Count runs text in a fresh engine and returns how many rows it made, for
// benchmarks; an ERROR logged fails tb.
func Count(tb testing.TB, text string) int {
	tb.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		tb.Fatalf("parse %q: %v", text, err)
	}
	var mu sync.Mutex
	var firstErr string
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{OnLog: func(m vql.Message) {
		mu.Lock()
		if firstErr == "" && strings.Contains(m.String(), "ERROR") {
			firstErr = m.String()
		}
		mu.Unlock()
	}})
	defer s.Close()
	n := 0
	for range s.Run(context.Background(), prog) {
		n++
	}
	if firstErr != "" {
		tb.Fatalf("%s: %s", text, firstErr)
	}
	return n
}
