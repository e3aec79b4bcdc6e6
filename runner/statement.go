package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
)

// Target runs statements: on the data folder directly, or on the vqlq
// server that owns it.
type Target interface {
	// Statement runs one statement, streaming a SELECT's rows into w, and
	// returns how many rows it wrote.
	Statement(ctx context.Context, stmt ast.Statement, w output.Writer) (int, error)
	// SetOrg switches the org later statements run in.
	SetOrg(org string)
}

// Local runs statements in a session of this process.
type Local struct{ Session *vql.Session }

// Statement implements Target.
func (l *Local) Statement(ctx context.Context, stmt ast.Statement, w output.Writer) (int, error) {
	rows := make(chan *ordereddict.Dict, 64)
	var crashed error
	go func() {
		defer close(rows)
		// The engine recovers in functions and plugins; this is the last
		// line, so that a bug shows as an error rather than a stack trace.
		defer func() {
			if r := recover(); r != nil {
				crashed = fmt.Errorf("internal error running %q: %v", stmt.String(), r)
			}
		}()
		for row := range l.Session.RunStatement(ctx, stmt) {
			rows <- row
		}
	}()
	_, isSelect := stmt.(*ast.SelectStmt)
	n, err := pump(rows, isSelect, w)
	if err == nil {
		err = crashed // rows is closed: the goroutine has finished
	}
	return n, err
}

// SetOrg implements Target.
func (l *Local) SetOrg(org string) {
	id := l.Session.Identity()
	id.Org = org
	l.Session.SetIdentity(id)
}

// pump writes rows as they arrive. A table is flushed when rows pause, so
// an event query shows each event when it comes.
func pump(rows chan *ordereddict.Dict, isSelect bool, w output.Writer) (int, error) {
	if !isSelect {
		for range rows {
		}
		return 0, nil
	}
	if err := w.Begin(); err != nil {
		return 0, drain(rows, err)
	}
	n := 0
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case row, ok := <-rows:
			if !ok {
				return n, w.End()
			}
			n++
			if err := w.Row(row); err != nil {
				return n, drain(rows, err)
			}
		case <-ticker.C:
			if err := w.Flush(); err != nil {
				return n, drain(rows, err)
			}
		}
	}
}

// drain discards the remaining rows after an output error (a closed pipe)
// so the producing goroutine can finish.
func drain(rows chan *ordereddict.Dict, err error) error {
	go func() {
		for range rows {
		}
	}()
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// LogPrinter writes log messages as they happen and remembers whether any
// was an error.
type LogPrinter struct {
	mu     sync.Mutex
	W      io.Writer
	failed bool
}

// Print writes one message; it is a vql.SessionOptions.OnLog.
func (l *LogPrinter) Print(m vql.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.Level == vql.LevelError {
		l.failed = true
	}
	fmt.Fprintln(l.W, m.String())
}

// Failed reports whether an ERROR was logged since the last Reset.
func (l *LogPrinter) Failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// Reset forgets earlier errors (the REPL reports per statement).
func (l *LogPrinter) Reset() {
	l.mu.Lock()
	l.failed = false
	l.mu.Unlock()
}
