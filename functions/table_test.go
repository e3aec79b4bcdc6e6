package functions_test

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

// vocabCase is one query of a vocabulary table: the JSON of the rows of
// its last statement, and (when set) a text one of its log messages holds.
type vocabCase struct {
	name  string
	query string
	want  string
	log   string
}

// runVocab runs every case in a fresh engine and session and compares the
// rows of the last statement exactly.
func runVocab(t *testing.T, cases []vocabCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := runQueryRows(t, tc.query)
			if got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", tc.query, got, tc.want, logs)
			}
			if tc.log != "" && !containsAny(logs, tc.log) {
				t.Errorf("%s: no log holds %q; logs: %q", tc.query, tc.log, logs)
			}
			if tc.log == "" {
				for _, l := range logs {
					if strings.Contains(l, "ERROR") {
						t.Errorf("%s: unexpected error %q", tc.query, l)
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

// runQueryRows runs text and returns the rows of its last statement as
// JSON, and the log messages.
func runQueryRows(t *testing.T, text string) (string, []string) {
	t.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	var mu sync.Mutex
	var logs []string
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{OnLog: func(m vql.Message) {
		mu.Lock()
		logs = append(logs, m.String())
		mu.Unlock()
	}})
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
