package plugins

import (
	"context"
	"iter"
	"sync"

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
		var sources []any
		for _, name := range args.Names() {
			if name == "async" {
				continue
			}
			v, _ := args.Get(name)
			sources = append(sources, v)
		}
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

// merge runs every source in its own goroutine and yields rows as they
// arrive. When the consumer stops, the sources are cancelled and awaited.
func merge(ctx context.Context, scope *vql.Scope, sources []any) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		ctx, cancel := context.WithCancel(ctx)
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
