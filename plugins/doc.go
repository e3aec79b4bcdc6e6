// Package plugins holds the built-in plugins every vqlq engine has: the
// row sources named in spec/vql.md. Register adds them all.
package plugins

import "github.com/vqlq/vqlq/vql"

// All returns every built-in plugin.
func All() []vql.Plugin {
	return []vql.Plugin{Scope, Range, Foreach, If, Chain, Flatten, Items, Clock,
		Switch, ParseRecordsWithRegex, ParseJSONArray, ParseJSONL,
		Sample, ColumnFilter, Delay, Fifo, Diff, Batch, For, Combine, Sequence, Dedup,
		ParseLines, ParseCSV, SplitRecords, Query, Help}
}

// Register adds every built-in plugin to e. The plugins that read the
// host (info, pslist, …) live in package host.
func Register(e *vql.Engine) {
	for _, p := range All() {
		e.AddPlugin(p)
	}
}

func none(func(vql.Row) bool) {}
