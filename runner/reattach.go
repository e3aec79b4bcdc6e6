package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
)

// Reattaching is the Target of a command that attached to the server
// owning its data folder, for as long as the command runs (a REPL can run
// for days). When the server goes away it says so, and the next statement
// runs on the server again once it is back or, when the folder has become
// free, in a session of this process, saying which. Either way the
// session's definitions (its LET statements, in order) are replayed
// first, so that the names typed earlier still mean what they meant.
type Reattaching struct {
	b     *Backend
	onLog func(vql.Message)
	org   string
	cur   Target // nil between a server going away and the next statement
	lets  []*ast.Let
}

// Check implements Target. Between servers the program is checked with
// this process's engine and the session's LETs.
func (a *Reattaching) Check(prog *ast.Program) error {
	if a.cur != nil {
		return a.cur.Check(prog)
	}
	defined := map[string]bool{}
	for _, l := range a.lets {
		defined[l.Name.Value] = true
	}
	return a.b.Engine().Check(prog, func(name string) bool { return defined[name] })
}

// Close implements Target.
func (a *Reattaching) Close() {
	if a.cur != nil {
		a.cur.Close()
	}
}

// SetOrg implements Target.
func (a *Reattaching) SetOrg(org string) {
	a.org = org
	if a.cur != nil {
		a.cur.SetOrg(org)
	}
}

// Statement implements Target. A statement that could not be sent (the
// server had gone before it) runs on whatever comes next; one the server
// was running when it went is not run again: it may have had effects, and
// its rows were shown.
func (a *Reattaching) Statement(ctx context.Context, stmt ast.Statement, w output.Writer) (int, error) {
	for attempt := 0; ; attempt++ {
		if a.cur == nil {
			if err := a.reconnect(ctx); err != nil {
				return 0, err
			}
		}
		n, err := a.cur.Statement(ctx, stmt, w)
		sent := !errors.Is(err, errNotSent)
		switch {
		case err == nil:
			if l, ok := stmt.(*ast.Let); ok {
				a.lets = append(a.lets, l)
			}
			return n, nil
		case errors.Is(err, ErrSessionLost) && attempt == 0:
			// The server restarted between two statements: a new session,
			// with the definitions replayed, then this statement.
			a.say(vql.LevelWarn, "the vqlq server that owns "+a.b.Flags.DataDir+" restarted and lost this session")
			a.cur = nil
			continue
		case errors.Is(err, ErrServerGone):
			a.cur = nil
			if !sent && attempt == 0 {
				a.say(vql.LevelWarn, "the vqlq server that owned "+a.b.Flags.DataDir+" is gone")
				continue
			}
			return n, fmt.Errorf("%w; the next statement runs on it again when it is back, or here once the folder is free", err)
		}
		return n, err
	}
}

// reconnect attaches to the folder's server again or, if there is none,
// opens the folder here; then it replays the session's definitions.
func (a *Reattaching) reconnect(ctx context.Context) error {
	var next Target
	if r, ok := Attach(a.b.Flags.DataDir, a.org); ok {
		r.OnLog, r.Engine, r.Deny = a.onLog, a.b.Engine(), a.b.Flags.Deny.Names()
		next = r
		a.say(vql.LevelInfo, fmt.Sprintf("attached again to the vqlq server that owns %s%s", a.b.Flags.DataDir, a.replaying()))
	} else {
		if _, err := a.b.Manager(); err != nil {
			return fmt.Errorf("the vqlq server that owned %s is gone, and the folder cannot be opened here: %w", a.b.Flags.DataDir, err)
		}
		next = a.b.local(a.onLog, a.org)
		a.say(vql.LevelInfo, fmt.Sprintf("no vqlq server owns %s any more: running here, on the folder itself%s", a.b.Flags.DataDir, a.replaying()))
	}
	for _, l := range a.lets {
		if _, err := next.Statement(ctx, l, discard{}); err != nil {
			return fmt.Errorf("replaying %s: %w", l, err)
		}
	}
	a.cur = next
	return nil
}

func (a *Reattaching) replaying() string {
	switch len(a.lets) {
	case 0:
		return ""
	case 1:
		return "; replaying the session's LET"
	}
	return fmt.Sprintf("; replaying the session's %d LETs", len(a.lets))
}

func (a *Reattaching) say(level, text string) {
	if a.onLog != nil {
		a.onLog(vql.Message{Time: time.Now(), Level: level, Text: text})
	}
}

// discard takes the rows of replayed definitions (LETs have none, but a
// writer is what Statement wants).
type discard struct{}

func (discard) Begin() error                { return nil }
func (discard) Row(*ordereddict.Dict) error { return nil }
func (discard) Flush() error                { return nil }
func (discard) End() error                  { return nil }
