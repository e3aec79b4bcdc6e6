package vql

import (
	"context"
	"sync/atomic"
)

// statement is what every scope of one running statement shares: a way to
// stop the whole statement with a reason (runaway recursion, the memory
// budget), and the memory it holds. Stopping cancels the statement's
// context, so every loop that checks ctx — its own, its plugins', nested
// stored queries' — ends, not only the one that found the problem.
type statement struct {
	cancel  context.CancelCauseFunc
	stopped atomic.Bool
	budget  budget
	// overflowed is set once a LET function's recursion was reported.
	overflowed atomic.Bool
}

// begin returns the scope and context a statement runs in. A statement
// run from inside another (an artifact's source called from a query)
// belongs to it: one budget, and stopping either stops both.
func (s *Scope) begin(ctx context.Context) (*Scope, context.Context, context.CancelFunc) {
	c := s.Child()
	if c.stmt != nil {
		return c, ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	c.stmt = &statement{cancel: cancel, budget: budget{limit: s.rt.maxMemory}}
	return c, ctx, func() { cancel(nil) }
}

// stop ends the running statement because of err, which is logged as an
// error once: the first reason is the one the user sees, the echoes of
// the cancellation are not logged. Outside a statement (a host running
// Scope.Query itself) err is only logged.
func (s *Scope) stop(err error) {
	st := s.stmt
	if st == nil {
		s.Errorf("%v", err)
		return
	}
	if st.stopped.CompareAndSwap(false, true) {
		s.Errorf("%v", err)
		st.cancel(err)
	}
}

// stopped reports whether the statement stopped itself (stop), rather
// than running to its end or being cancelled from outside.
func (s *Scope) stopped() bool { return s.stmt != nil && s.stmt.stopped.Load() }
