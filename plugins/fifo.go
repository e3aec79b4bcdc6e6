package plugins

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Fifo keeps the last rows of an event query, to look back at recent
// events when another one arrives ("five failed logons in the last
// minute"). The first call starts the query in the background, for as
// long as the calling statement runs; every call yields the rows kept
// then. The rows are kept for the session, per query and limits.
var Fifo = vql.PluginFunc{
	Meta: vql.Info{
		Name: "fifo",
		Doc:  "The last rows of an event query running in the background: at most max_rows, none older than max_age.",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The event query whose rows are kept."},
			{Name: "max_rows", Type: vql.TypeInt, Doc: "Most rows kept (default 1000)."},
			{Name: "max_age", Type: vql.TypeFloat, Doc: "Seconds a row is kept (default: no limit)."},
			{Name: "flush", Type: vql.TypeBool, Doc: "Forget the rows once they have been yielded."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		maxRows, maxAge, flush := args.Int("max_rows", 1000), args.Float("max_age", 0), args.Bool("flush", false)
		query, _ := args.Get("query")
		if args.Failed() {
			return none
		}
		key := fmt.Sprintf("fifo:%v:%d:%v", query, maxRows, maxAge)
		f := scope.SessionState(key, func() any {
			return &fifoState{maxRows: int(max(maxRows, 1)), maxAge: time.Duration(maxAge * float64(time.Second))}
		}).(*fifoState)
		f.start(ctx, scope, query)
		rows := f.snapshot(flush)
		return func(yield func(vql.Row) bool) {
			for _, r := range rows {
				if !yield(r) {
					return
				}
			}
		}
	},
}

type fifoRow struct {
	row vql.Row
	at  time.Time
}

type fifoState struct {
	mu      sync.Mutex
	maxRows int
	maxAge  time.Duration
	rows    []fifoRow
	running bool
}

// start runs the query in the background unless it already runs.
func (f *fifoState) start(ctx context.Context, scope *vql.Scope, query any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		return
	}
	f.running = true
	go func() {
		defer func() {
			f.mu.Lock()
			f.running = false
			f.mu.Unlock()
		}()
		for row := range scope.RowsOf(queues.Detached(ctx), query) {
			f.mu.Lock()
			f.rows = append(f.rows, fifoRow{row, time.Now()})
			if len(f.rows) > f.maxRows {
				f.rows = append(f.rows[:0:0], f.rows[len(f.rows)-f.maxRows:]...)
			}
			f.mu.Unlock()
		}
	}()
}

// snapshot returns copies of the rows kept now (dropping expired ones):
// every call's rows are its own.
func (f *fifoState) snapshot(flush bool) []vql.Row {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxAge > 0 {
		cut := 0
		for cut < len(f.rows) && time.Since(f.rows[cut].at) > f.maxAge {
			cut++
		}
		f.rows = f.rows[cut:]
	}
	out := make([]vql.Row, len(f.rows))
	for i, r := range f.rows {
		out[i] = copyRow(r.row)
	}
	if flush {
		f.rows = nil
	}
	return out
}
