package plugins

import (
	"context"
	"iter"
	"regexp"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// ColumnFilter keeps the columns of each row whose names match include
// (all when absent) and do not match exclude.
var ColumnFilter = vql.PluginFunc{
	Meta: vql.Info{
		Name: "column_filter",
		Doc:  "The rows of query with only the columns whose names match include and not exclude (regexes).",
		Args: []vql.ArgSpec{
			{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to filter."},
			{Name: "include", Type: vql.TypeList, Doc: "Keep columns matching any of these regexes (default all)."},
			{Name: "exclude", Type: vql.TypeList, Doc: "Drop columns matching any of these regexes."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		include, ok1 := CompileRegexes(scope, "column_filter", args.Strings("include"))
		exclude, ok2 := CompileRegexes(scope, "column_filter", args.Strings("exclude"))
		rows, _ := args.Rows("query")
		if !ok1 || !ok2 || args.Failed() {
			return none
		}
		keep := func(name string) bool {
			return (len(include) == 0 || MatchAny(include, name)) && !MatchAny(exclude, name)
		}
		return func(yield func(vql.Row) bool) {
			for row := range rows {
				out := ordereddict.NewDict()
				for _, k := range value.Keys(row) {
					if keep(k) {
						v, _ := value.Member(row, k)
						out.Set(k, v)
					}
				}
				if !yield(out) {
					return
				}
			}
		}
	},
}

// compileList compiles VQL regexes (case-insensitive), logging the first
// bad one.
func CompileRegexes(scope *vql.Scope, callee string, patterns []string) ([]*regexp.Regexp, bool) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := value.CompileRegex(p)
		if err != nil {
			scope.Errorf("%s: %v", callee, err)
			return nil, false
		}
		out = append(out, re)
	}
	return out, true
}

// MatchAny reports whether any of res matches s.
func MatchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
