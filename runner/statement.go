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

// Statement streams one statement's rows into w and returns how many it
// wrote. Rows are produced in a goroutine so that a table can be flushed
// while an event query waits for its next event.
func Statement(ctx context.Context, session *vql.Session, stmt ast.Statement, w output.Writer) (int, error) {
	_, isSelect := stmt.(*ast.SelectStmt)
	rows := make(chan *ordereddict.Dict, 64)
	go func() {
		defer close(rows)
		for row := range session.RunStatement(ctx, stmt) {
			rows <- row
		}
	}()
	if !isSelect {
		for range rows {
		}
		return 0, nil
	}
	if err := w.Begin(); err != nil {
		return 0, err
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
