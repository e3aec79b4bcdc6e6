package plugins

import (
	"context"
	"iter"
	"sync"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Chain yields the rows of each of its queries in argument order. With
// async=TRUE they run at once and rows interleave as they are produced:
// that is how one query can both watch a queue and send to it.
var Chain = vql.PluginFunc{
	Meta: vql.Info{
		Name:     "chain",
		Doc:      "The rows of every query argument (a={…}, b={…}, …) one after the other, or interleaved with async=TRUE.",
		FreeArgs: true,
		Args: []vql.ArgSpec{
			{Name: "async", Type: vql.TypeBool, Doc: "Run all queries concurrently."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		async := args.Bool("async", false)
		sources := queryArgs(args, "async")
		if !async {
			return func(yield func(vql.Row) bool) {
				for _, src := range sources {
					for row := range scope.RowsOf(ctx, src) {
						if !yield(row) {
							return
						}
					}
				}
			}
		}
		return merge(ctx, scope, sources)
	},
}

// Combine is Velociraptor's shorthand for chain(async=TRUE): the rows of
// all its queries as they come.
var Combine = vql.PluginFunc{
	Meta: vql.Info{
		Name:     "combine",
		Doc:      "The rows of every query argument (a={…}, b={…}, …), run at once and interleaved as they come.",
		FreeArgs: true,
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return merge(ctx, scope, queryArgs(args, ""))
	},
}

// queryArgs is every argument's value but skip's, in call order.
func queryArgs(args *vql.Args, skip string) []any {
	var out []any
	for _, name := range args.Names() {
		if name != skip {
			v, _ := args.Get(name)
			out = append(out, v)
		}
	}
	return out
}

// merge runs every source in its own goroutine and yields rows as they
// arrive. When the consumer stops, the sources are cancelled and awaited.
func merge(ctx context.Context, scope *vql.Scope, sources []any) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		ctx, cancel := context.WithCancel(queues.Detached(ctx))
		out := make(chan vql.Row)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		for _, src := range sources {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for row := range scope.RowsOf(ctx, src) {
					select {
					case out <- row:
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for {
			select {
			case row := <-out:
				if !yield(row) {
					return
				}
			case <-done:
				return
			}
		}
	}
}
