package plugins

import (
	"context"
	"iter"
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Sequence correlates events that come close together from several
// queries: every row any of them yields joins a buffer, and after each
// one query runs with the buffer bound to SEQUENCE (a list of rows).
// When query yields rows they are passed on and the buffer starts
// afresh. Rows older than max_age seconds leave the buffer.
var Sequence = vql.PluginFunc{
	Meta: vql.Info{
		Name:     "sequence",
		Doc:      "Run query over SEQUENCE, the recent rows of all other query arguments, after each new row; a match is yielded and resets SEQUENCE.",
		FreeArgs: true,
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "Run over SEQUENCE after every new row."},
			{Name: "max_age", Type: vql.TypeFloat, Doc: "Seconds a row stays in SEQUENCE (default: until a match)."},
			{Name: "max_rows", Type: vql.TypeInt, Doc: "Most rows kept in SEQUENCE (default 1000)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		query, _ := args.Get("query")
		secs, maxRows := args.Float("max_age", 0), args.Int("max_rows", 1000)
		if args.Failed() {
			return none
		}
		maxAge, err := value.Seconds(secs)
		if err != nil || maxAge < 0 {
			scope.Errorf("sequence: max_age must be a non-negative number of seconds, not %v", secs)
			return none
		}
		var sources []any
		for _, name := range args.Names() {
			if name != "query" && name != "max_age" && name != "max_rows" {
				v, _ := args.Get(name)
				sources = append(sources, v)
			}
		}
		type seen struct {
			row vql.Row
			at  time.Time
		}
		return func(yield func(vql.Row) bool) {
			var buf []seen
			for row := range merge(ctx, scope, sources) {
				now := time.Now()
				buf = append(buf, seen{row, now})
				for len(buf) > 0 && ((maxAge > 0 && now.Sub(buf[0].at) > maxAge) || int64(len(buf)) > max(maxRows, 1)) {
					buf = buf[1:]
				}
				list := make([]any, len(buf))
				for i, s := range buf {
					list[i] = s.row
				}
				matched := false
				for out := range scope.WithVars(map[string]any{"SEQUENCE": list}).RowsOf(ctx, query) {
					matched = true
					if !yield(out) {
						return
					}
				}
				if matched {
					buf = nil
				}
			}
		}
	},
}
