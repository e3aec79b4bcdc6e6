package plugins

import (
	"context"
	"iter"
	"sync"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Foreach runs query once for every row of row, with that row's columns in
// scope. Without query it yields the rows themselves. With workers > 1 the
// queries run in parallel and rows come out in completion order.
var Foreach = vql.PluginFunc{
	Meta: vql.Info{
		Name: "foreach",
		Doc:  "Run query once per row of row, with the row's columns in scope.",
		Args: []vql.ArgSpec{
			{Name: "row", Type: vql.TypeQuery, Required: true, Doc: "Rows to iterate: a query, a list, or a single dict."},
			{Name: "query", Type: vql.TypeQuery, Doc: "Query run for each row (default: yield the row)."},
			{Name: "column", Type: vql.TypeString, Doc: "Iterate this column of each row instead of the row."},
			{Name: "workers", Type: vql.TypeInt, Doc: "Run this many queries in parallel (order not kept)."},
			{Name: "async", Type: vql.TypeBool, Doc: "Run every row's query at once, as Velociraptor does: workers=1000 (order not kept)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		column := args.String("column", "")
		workers := args.Int("workers", 1)
		if args.Bool("async", false) {
			// Velociraptor's async is its workers=1000; the same bound
			// keeps a row source of millions from starting millions.
			workers = max(workers, asyncWorkers)
		}
		if args.Failed() {
			return none
		}
		rowsArg, _ := args.Get("row")
		query, hasQuery := args.Get("query")
		items := func(yield func(vql.Row) bool) {
			for item := range iterItems(ctx, scope, rowsArg) {
				if column != "" {
					item, _ = value.Member(item, column)
				}
				if !yield(item) {
					return
				}
			}
		}
		if !hasQuery {
			return items
		}
		if workers > 1 {
			// Both the rows and the queries are read in goroutines.
			ctx = queues.Detached(ctx)
			return parallel(ctx, scope, items, query, int(workers))
		}
		return func(yield func(vql.Row) bool) {
			for item := range items {
				for out := range iterItems(ctx, scope.WithRow(item), query) {
					if !yield(out) {
						return
					}
				}
			}
		}
	},
}

// asyncWorkers is how many queries foreach(async=TRUE) runs at once.
const asyncWorkers = 1000

// iterItems reads foreach's row argument: a query's rows, a list's non-NULL
// elements (scalars wrapped as {_value: x}), a dict as one row.
func iterItems(ctx context.Context, scope *vql.Scope, v any) iter.Seq[vql.Row] {
	if v == nil {
		return none
	}
	if q, ok := v.(vql.Query); ok {
		return q.Rows(ctx, scope)
	}
	l, ok := value.AsList(v)
	if !ok {
		l = []any{v}
	}
	return func(yield func(vql.Row) bool) {
		for _, e := range l {
			if e == nil {
				continue
			}
			if !isRowLike(e) {
				e = ordereddict.NewDict().Set("_value", e)
			}
			if !yield(e) {
				return
			}
		}
	}
}

// isRowLike reports whether a value has members of its own (a dict, a
// struct), as opposed to a scalar that must be wrapped to become a row.
func isRowLike(v any) bool {
	switch v.(type) {
	case *ordereddict.Dict, value.Getter:
		return true
	case string, bool, int64, float64, []any:
		return false
	}
	return value.Keys(v) != nil
}

func parallel(ctx context.Context, scope *vql.Scope, items iter.Seq[vql.Row], query any, workers int) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		in := make(chan vql.Row)
		out := make(chan vql.Row)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for item := range in {
					for row := range iterItems(ctx, scope.WithRow(item), query) {
						select {
						case out <- row:
						case <-ctx.Done():
							return
						}
					}
				}
			}()
		}
		go func() {
			defer close(in)
			for item := range items {
				select {
				case in <- item:
				case <-ctx.Done():
					return
				}
			}
		}()
		go func() { wg.Wait(); close(out) }()
		for row := range out {
			if !yield(row) {
				return
			}
		}
	}
}
