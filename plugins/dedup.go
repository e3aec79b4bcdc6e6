package plugins

import (
	"context"
	"iter"
	"time"

	"github.com/vqlq/vqlq/internal/lru"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Dedup drops rows whose key column was seen recently: within timeout
// seconds, among the last size keys. Event queries use it to report a
// repeating event once.
var Dedup = vql.PluginFunc{
	Meta: vql.Info{
		Name: "dedup",
		Doc:  "The rows of query, without those whose key column was seen in the last timeout seconds (among the last size keys).",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to deduplicate."},
			{Name: "key", Type: vql.TypeString, Required: true, Doc: "The column compared."},
			{Name: "timeout", Type: vql.TypeFloat, Doc: "Seconds a key is remembered (default 60)."},
			{Name: "size", Type: vql.TypeInt, Doc: "Most keys remembered (default 1000)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		key, secs, size := args.String("key", ""), args.Float("timeout", 60), args.Int("size", 1000)
		rows, _ := args.Rows("query")
		if args.Failed() {
			return none
		}
		ttl, err := value.Seconds(secs)
		if err != nil || ttl < 0 {
			scope.Errorf("dedup: timeout must be a non-negative number of seconds, not %v", secs)
			return none
		}
		return func(yield func(vql.Row) bool) {
			seen := lru.New(int(size), time.Duration(ttl))
			for row := range rows {
				k, _ := value.Member(row, key)
				text, _ := value.EncodeJSON(scope.Materialize(ctx, k))
				if _, dup := seen.Get(string(text)); dup {
					continue
				}
				seen.Set(string(text), true)
				if !yield(row) {
					return
				}
			}
		}
	},
}
