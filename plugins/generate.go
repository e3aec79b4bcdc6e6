package plugins

import (
	"context"
	"iter"
	"sync"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Generator is what generate() returns: a query that several readers can
// read while its source runs once. The first reader runs the source and
// records its rows; the others (at the same time or later in the
// session) replay them, then follow the rows still coming. Velociraptor's
// generators also broadcast live; vqlq keeps the rows for the session so
// that a late reader sees them all.
type Generator struct {
	name   string
	source any
	scope  *vql.Scope

	mu      sync.Mutex
	started bool
	done    bool
	rows    []vql.Row
	changed chan struct{} // closed and replaced on every new row
}

// String names the generator in messages and cache keys.
func (g *Generator) String() string { return "generate(" + g.name + ")" }

// Rows replays the recorded rows and follows new ones until the source
// ends.
func (g *Generator) Rows(ctx context.Context, scope *vql.Scope) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		g.mu.Lock()
		if !g.started {
			g.started = true
			go g.run(ctx)
		}
		g.mu.Unlock()
		for i := 0; ; i++ {
			g.mu.Lock()
			for i >= len(g.rows) && !g.done {
				ch := g.changed
				g.mu.Unlock()
				select {
				case <-ch:
				case <-ctx.Done():
					return
				}
				g.mu.Lock()
			}
			if i >= len(g.rows) {
				g.mu.Unlock()
				return
			}
			row := copyRow(g.rows[i])
			g.mu.Unlock()
			if !yield(row) {
				return
			}
		}
	}
}

func (g *Generator) run(ctx context.Context) {
	// Readers take the rows later, from g.rows.
	for row := range g.scope.RowsOf(queues.Detached(ctx), g.source) {
		g.mu.Lock()
		g.rows = append(g.rows, row)
		close(g.changed)
		g.changed = make(chan struct{})
		g.mu.Unlock()
	}
	g.mu.Lock()
	g.done = true
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
}

// Generate makes (or finds, by name, in the session) a Generator.
var Generate = vql.FunctionFunc{
	Meta: vql.Info{
		Name: "generate",
		Doc:  "A query several readers share: query runs once, every reader gets all its rows (kept for the session under name).",
		Args: []vql.ArgSpec{
			{Name: "name", Type: vql.TypeString, Required: true, Doc: "The generator's name in the session."},
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The source query."},
			{Name: "delay", Type: vql.TypeInt, Doc: "Accepted for compatibility: the source starts with its first reader."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
		name := args.String("name", "")
		source, _ := args.Get("query")
		if args.Failed() {
			return nil
		}
		return scope.SessionState("generate:"+name, func() any {
			return &Generator{name: name, source: source, scope: scope, changed: make(chan struct{})}
		})
	},
}
