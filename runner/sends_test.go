package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
)

// run runs each statement of text through a Local target on a real badger
// store and returns the JSON lines of each statement's output.
func run(t *testing.T, b *runner.Backend, text string) [][]string {
	t.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	target := b.Target(func(m vql.Message) { logs = append(logs, m.String()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out [][]string
	for _, stmt := range prog.Statements {
		var buf bytes.Buffer
		w, err := output.New("jsonl", &buf, output.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := target.Statement(ctx, stmt, w); err != nil {
			t.Fatalf("%s: %v (log %v)", stmt.(ast.Statement).String(), err, logs)
		}
		out = append(out, strings.Split(strings.TrimSpace(buf.String()), "\n"))
	}
	if len(logs) > 0 {
		t.Fatalf("log: %v", logs)
	}
	return out
}

func newBackend(t *testing.T) *runner.Backend {
	t.Helper()
	defs := t.TempDir()
	if err := os.WriteFile(filepath.Join(defs, "r.yaml"), []byte("name: Server.Events.Receive\ntype: SERVER_EVENT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &runner.Backend{Flags: &runner.StoreFlags{DataDir: filepath.Join(t.TempDir(), "data"), Definitions: defs,
		Org: queues.DefaultOrg, Sync: "flush", Retention: time.Hour}}
	t.Cleanup(b.Close)
	return b
}

// A statement's send_event() calls are pipelined, and it still sees what
// it sent: every event is stored, in the order of the rows, and a read of
// the queue in the same statement or the next finds them all.
func TestPipelinedSendsAreStoredInOrderAndReadBack(t *testing.T) {
	b := newBackend(t)
	out := run(t, b, `
SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)).i AS sent FROM range(end=300)
SELECT * FROM chain(
  a={SELECT send_event(artifact='Server.Events.Receive', row=dict(i=300 + _value)).i AS sent FROM range(end=3)},
  b={SELECT count() AS n FROM source(artifact='Server.Events.Receive') GROUP BY 1})
SELECT i FROM source(artifact='Server.Events.Receive')`)
	if len(out[0]) != 300 || out[0][299] != `{"sent":299}` {
		t.Fatalf("first statement: %d rows, last %q", len(out[0]), out[0][len(out[0])-1])
	}
	if got := strings.Join(out[1], " "); got != `{"sent":300} {"sent":301} {"sent":302} {"n":303}` {
		t.Errorf("a read in the statement that sent: %s", got)
	}
	if len(out[2]) != 303 {
		t.Fatalf("stored %d events, want 303", len(out[2]))
	}
	for i, line := range out[2] {
		var row struct{ I int }
		if err := json.Unmarshal([]byte(line), &row); err != nil || row.I != i {
			t.Fatalf("event %d is %s", i, line)
		}
	}
}
