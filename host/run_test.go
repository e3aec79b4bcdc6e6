package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// start runs query in a session holding every permission until ctx is
// cancelled, sending each row's JSON; ended closes when the query is over.
func start(t *testing.T, ctx context.Context, query string) (rows <-chan string, ended <-chan struct{}) {
	t.Helper()
	prog, err := parser.Parse(query, "")
	if err != nil {
		t.Fatal(err)
	}
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{Identity: vql.Identity{All: true}})
	out, done := make(chan string, 16), make(chan struct{})
	go func() {
		defer close(done)
		for r := range s.Run(ctx, prog) {
			b, _ := value.EncodeJSON(r.Row)
			select {
			case out <- string(b):
			case <-ctx.Done():
			}
		}
	}()
	return out, done
}

// waitEnd waits, a bounded while, for a cancelled query to end.
func waitEnd(t *testing.T, ended <-chan struct{}) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the query did not end when cancelled")
	}
}
