package plugins

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"os"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/vql"
)

// write_csv and write_jsonl write a query's rows to a host file and pass
// each row on, so a collection can keep a copy of what it returns. The
// file is written as the rows come (through a buffer, flushed at the
// end), never collected first.

// WriteCSV writes rows as CSV.
var WriteCSV = writerPlugin("write_csv", "csv", "Write the query's rows to filename as CSV (a header, then a record per row; a new column starts a new header) and pass them on.")

// WriteJSONL writes rows as JSON lines.
var WriteJSONL = writerPlugin("write_jsonl", "jsonl", "Write the query's rows to filename as JSON, one row a line, and pass them on.")

func writerPlugin(name, format, doc string) vql.PluginFunc {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: name,
			Doc:  doc,
			Args: []vql.ArgSpec{
				{Name: "filename", Type: vql.TypeString, Required: true, Doc: "The host file to write (replaced)."},
				{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to write."},
				{Name: "accessor", Type: vql.TypeString, Doc: "Only file (the default) writes."},
				{Name: "buffer_size", Type: vql.TypeInt, Doc: "Accepted for compatibility."},
				{Name: "max_time", Type: vql.TypeInt, Doc: "Accepted for compatibility."},
			},
			Permissions: []vql.Permission{vql.PermFilesystemWrite},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			filename, acc := args.String("filename", ""), args.String("accessor", "file")
			rows, _ := args.Rows("query")
			if args.Failed() {
				return none
			}
			if acc != "file" && acc != "auto" && acc != "" {
				scope.Errorf("%s: only the file accessor writes, not %q", name, acc)
				return none
			}
			return func(yield func(vql.Row) bool) {
				if err := writeRows(ctx, scope, filename, format, rows, yield); err != nil {
					scope.Errorf("%s: %v", name, err)
				}
			}
		},
	}
}

// writeRows writes each row to the file, then yields it.
func writeRows(ctx context.Context, scope *vql.Scope, filename, format string, rows iter.Seq[vql.Row], yield func(vql.Row) bool) error {
	if filename == "" {
		return fmt.Errorf("filename is empty")
	}
	f, err := os.Create(filename)
	if err != nil {
		return err
	}
	buf := bufio.NewWriter(f)
	w, err := output.New(format, buf, output.Options{})
	if err == nil {
		err = w.Begin()
	}
	for row := range rows {
		if err != nil || ctx.Err() != nil {
			break
		}
		d := copyRow(row)
		for _, item := range d.Items() {
			d.Update(item.Key, scope.Materialize(ctx, item.Value))
		}
		if err = w.Row(d); err != nil || !yield(row) {
			break
		}
	}
	if err == nil {
		err = w.End()
	}
	if ferr := buf.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
