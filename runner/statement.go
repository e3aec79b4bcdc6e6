package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
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
	// Check is the check before a program runs (vql.Engine.Check): every
	// unknown plugin, function or argument name, with its position.
	Check(prog *ast.Program) error
	// Close ends the session statements ran in: what its queries left
	// for the end (temporary files) is removed.
	Close()
}

// Local runs statements in a session of this process.
type Local struct{ Session *vql.Session }

// Close implements Target.
func (l *Local) Close() { l.Session.Close() }

// Statement implements Target.
//
// The rows go from the engine's goroutine to the output through a
// 64-row channel, so a query does not wait for the terminal. A durable
// consumer (watch_monitoring(consumer=…)) must not count an event as
// used before its output has it: the statement's context carries an
// AckBarrier (see outputAck) that the consumer calls before it
// acknowledges, and that returns once every row produced so far is
// written and flushed. Queries that read no consumer never call it and
// keep the buffered, periodically flushed output; a consumer query is
// flushed at each event, which is the price of at-least-once.
func (l *Local) Statement(ctx context.Context, stmt ast.Statement, w output.Writer) (int, error) {
	rows := make(chan *ordereddict.Dict, 64)
	_, isSelect := stmt.(*ast.SelectStmt)
	ack := newOutputAck()
	if isSelect {
		ctx = queues.WithAckBarrier(ctx, ack.barrier)
	}
	// The statement's sends are pipelined: the pump waits for them before
	// it writes a row, and before the statement is done.
	ack.sends = &queues.Sends{}
	ctx = queues.WithSends(ctx, ack.sends)
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
			ack.produced.Add(1)
			rows <- row
		}
	}()
	n, err := pump(rows, isSelect, w, ack)
	if err == nil {
		err = crashed // rows is closed: the goroutine has finished
	}
	return n, err
}

// errOutputFailed is what the barrier answers once the output can take
// no more rows: what is still unwritten was not delivered.
var errOutputFailed = errors.New("output closed before the row was written")

// outputAck tells a consuming query when the output has its rows: rows
// are counted as they are produced and as they are written and flushed.
type outputAck struct {
	produced atomic.Int64 // rows put on the channel
	want     atomic.Int64 // the count a barrier waits for
	nudge    chan struct{}
	// sends, when set, are the statement's pipelined send_event() calls:
	// a row is written only once the sends started before it are stored.
	sends *queues.Sends

	mu      sync.Mutex
	cond    *sync.Cond
	flushed int64 // rows written and flushed
	ended   bool  // the output takes no more rows
}

func newOutputAck() *outputAck {
	a := &outputAck{nudge: make(chan struct{}, 1)}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// barrier is the queues.AckBarrier: it waits until every row produced so
// far is flushed, asking the pump to flush now.
func (a *outputAck) barrier() error {
	// A consumer that sends what it reads on (send_event) is done with an
	// event once that send is stored, even if no row came of it.
	if err := a.sent(); err != nil {
		return err
	}
	target := a.produced.Load()
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.flushed < target && !a.ended {
		if a.want.Load() < target {
			a.want.Store(target)
		}
		select {
		case a.nudge <- struct{}{}:
		default:
		}
		a.cond.Wait()
	}
	if a.flushed >= target {
		return nil
	}
	return errOutputFailed
}

// wanted says whether a barrier waits for the n rows written so far.
func (a *outputAck) wanted(n int64) bool {
	want := a.want.Load()
	return want > 0 && n >= want && a.flushedCount() < want
}

func (a *outputAck) flushedCount() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.flushed
}

// done records that n rows are written and flushed.
func (a *outputAck) done(n int64) {
	a.mu.Lock()
	a.flushed = n
	a.mu.Unlock()
	a.cond.Broadcast()
}

// sent waits for the statement's sends started so far: a row computed
// after them may be written once they are stored. An error means some
// were not, and the statement stops there.
func (a *outputAck) sent() error {
	if a.sends == nil {
		return nil
	}
	if err := a.sends.WaitAll(); err != nil {
		return fmt.Errorf("%w (the statement stopped: its later rows are not written, and their sends may not be stored)", err)
	}
	return nil
}

// end records that the output takes no more rows.
func (a *outputAck) end() {
	a.mu.Lock()
	a.ended = true
	a.mu.Unlock()
	a.cond.Broadcast()
}

// Check implements Target.
func (l *Local) Check(prog *ast.Program) error { return l.Session.Check(prog) }

// SetOrg implements Target.
func (l *Local) SetOrg(org string) {
	id := l.Session.Identity()
	id.Org = org
	l.Session.SetIdentity(id)
}

// pump writes rows as they arrive. A table is flushed when rows pause, so
// an event query shows each event when it comes, and at once when a
// consumer waits to acknowledge (ack).
func pump(rows chan *ordereddict.Dict, isSelect bool, w output.Writer, ack *outputAck) (int, error) {
	defer ack.end()
	if !isSelect {
		for range rows {
		}
		return 0, ack.sent()
	}
	if err := w.Begin(); err != nil {
		return 0, drain(rows, err)
	}
	n := 0
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	flush := func() error {
		if err := w.Flush(); err != nil {
			return err
		}
		ack.done(int64(n))
		return nil
	}
	for {
		select {
		case row, ok := <-rows:
			if !ok {
				if err := ack.sent(); err != nil {
					return n, err
				}
				if err := w.End(); err != nil {
					return n, err
				}
				ack.done(int64(n))
				return n, nil
			}
			if err := ack.sent(); err != nil {
				return n, drain(rows, err)
			}
			n++
			if err := w.Row(row); err != nil {
				return n, drain(rows, err)
			}
			if ack.wanted(int64(n)) {
				if err := flush(); err != nil {
					return n, drain(rows, err)
				}
			}
		case <-ack.nudge:
			if ack.wanted(int64(n)) {
				if err := flush(); err != nil {
					return n, drain(rows, err)
				}
			}
		case <-ticker.C:
			if err := flush(); err != nil {
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
