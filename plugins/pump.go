package plugins

import (
	"context"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// pump runs query in a goroutine and sends each of its rows, mapped by
// wrap, to the channel it returns (buffered to hold buffer items), so that
// a plugin can wait for rows and for a timer at once (delay, batch with a
// timeout). The context it returns is cancelled by stop, which also waits
// for the query to end: call it (deferred) when done.
func pump[T any](ctx context.Context, scope *vql.Scope, query any, buffer int, wrap func(vql.Row) T) (<-chan T, context.Context, func()) {
	ctx, cancel := context.WithCancel(queues.Detached(ctx))
	ch := make(chan T, buffer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for row := range scope.RowsOf(ctx, query) {
			select {
			case ch <- wrap(row):
			case <-ctx.Done():
				return
			}
		}
	}()
	stop := func() {
		cancel()
		for range ch {
		}
		<-done
	}
	return ch, ctx, stop
}
