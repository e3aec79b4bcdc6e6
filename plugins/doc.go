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

// Files returns the plugins that find, read and write the host's files.
func Files() []vql.Plugin {
	return []vql.Plugin{Glob, Stat, WriteCSV, WriteJSONL, Unzip, Uploads}
}

// Register adds every built-in plugin, and Files', to e. The plugins that
// read the host (info, pslist, …) live in package host.
func Register(e *vql.Engine) {
	for _, p := range append(All(), Files()...) {
		e.AddPlugin(p)
	}
}

func none(func(vql.Row) bool) {}
