package plugins

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// Line and record parsers: text files (read through an accessor) as rows.

// readEach reads every filename of the list argument name through the
// call's accessor, logging (and skipping) those that cannot be read.
func readEach(ctx context.Context, scope *vql.Scope, args *vql.Args, callee, name string) iter.Seq[[]byte] {
	files, acc := args.Strings(name), args.String("accessor", "")
	return func(yield func([]byte) bool) {
		for _, f := range files {
			sub := vql.NewArgs(scope, ordereddict.NewDict().Set(name, f).Set("accessor", acc))
			if data, ok := accessors.ReadArg(ctx, scope, sub, callee, name); ok && !yield(data) {
				return
			}
		}
	}
}

// ParseLines yields one row {Line} per line.
var ParseLines = vql.PluginFunc{
	Meta: vql.Info{
		Name: "parse_lines",
		Doc:  "One row {Line} per line of the file (line ends, \\n or \\r\\n, removed).",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeList, Required: true, Doc: "The file (or files); with accessor=\"data\" the text itself."},
			accessorSpec,
			{Name: "buffer_size", Type: vql.TypeInt, Doc: "Accepted for compatibility."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			for data := range readEach(ctx, scope, args, "parse_lines", "filename") {
				for _, line := range splitLines(data) {
					if ctx.Err() != nil || !yield(ordereddict.NewDict().Set("Line", line)) {
						return
					}
				}
			}
		}
	},
}

// splitLines splits on \n, dropping a \r before it and a last empty line.
func splitLines(data []byte) []string {
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// colName names the i-th (0-based) column beyond the given headers.
func colName(i int) string { return "Col" + strconv.Itoa(i) }

// record makes a row of fields under headers, naming extra fields Col<i>.
func record(headers, fields []string) *ordereddict.Dict {
	row := ordereddict.NewDict()
	for i, f := range fields {
		if i < len(headers) {
			row.Set(headers[i], f)
		} else {
			row.Set(colName(i), f)
		}
	}
	return row
}

// ParseCSV reads CSV: the first record is the header unless columns are
// given or auto_headers is set; extra fields are named Col<index>. A
// malformed line is logged and skipped.
var ParseCSV = vql.PluginFunc{
	Meta: vql.Info{
		Name: "parse_csv",
		Doc:  "One row per CSV record, keyed by the header line (or columns, or Col0, Col1, … with auto_headers).",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeList, Required: true, Doc: "The file (or files); with accessor=\"data\" the text itself."},
			accessorSpec,
			{Name: "auto_headers", Type: vql.TypeBool, Doc: "The first record is data: columns are named Col0, Col1, … (or by columns)."},
			{Name: "separator", Type: vql.TypeString, Doc: "The field separator (default ,)."},
			{Name: "comment", Type: vql.TypeString, Doc: "Lines starting with this character are skipped."},
			{Name: "columns", Type: vql.TypeList, Doc: "The column names; the first record is then data."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		auto, sep, comment := args.Bool("auto_headers", false), args.String("separator", ","), args.String("comment", "")
		columns := args.Strings("columns")
		if args.Failed() {
			return none
		}
		if len([]rune(sep)) != 1 || len([]rune(comment)) > 1 {
			scope.Errorf("parse_csv: separator must be one character and comment at most one, not %q and %q", sep, comment)
			return none
		}
		return func(yield func(vql.Row) bool) {
			for data := range readEach(ctx, scope, args, "parse_csv", "filename") {
				r := csv.NewReader(bytes.NewReader(data))
				r.Comma, r.FieldsPerRecord, r.LazyQuotes = []rune(sep)[0], -1, true
				if comment != "" {
					r.Comment = []rune(comment)[0]
				}
				headers, needHeaders := columns, len(columns) == 0 && !auto
				for ctx.Err() == nil {
					fields, err := r.Read()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						scope.Log(vql.LevelDebug, "parse_csv: skipped: %v", err)
						continue
					}
					if needHeaders {
						headers, needHeaders = fields, false
						continue
					}
					if !yield(record(headers, fields)) {
						return
					}
				}
			}
		}
	},
}

// SplitRecords splits text into records (by record_regex, default a
// newline) and each record into fields (by regex).
var SplitRecords = vql.PluginFunc{
	Meta: vql.Info{
		Name: "split_records",
		Doc:  "One row per record of the files (split by record_regex), its fields split by regex and named by columns (else Col0, Col1, …).",
		Args: []vql.ArgSpec{
			{Name: "filenames", Type: vql.TypeList, Required: true, Doc: "The files; with accessor=\"data\" the text itself."},
			accessorSpec,
			{Name: "regex", Type: vql.TypeString, Doc: "What separates fields (default ,)."},
			{Name: "record_regex", Type: vql.TypeString, Doc: "What separates records (default a newline)."},
			{Name: "columns", Type: vql.TypeList, Doc: "The column names."},
			{Name: "first_row_is_headers", Type: vql.TypeBool, Doc: "Take the column names from the first record."},
			{Name: "count", Type: vql.TypeInt, Doc: "Split into at most this many fields (the last keeps the rest)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		fieldRe, recordRe := args.String("regex", ","), args.String("record_regex", "\n")
		columns, firstIsHeaders, count := args.Strings("columns"), args.Bool("first_row_is_headers", false), args.Int("count", -1)
		if args.Failed() {
			return none
		}
		res, ok := CompileRegexes(scope, "split_records", []string{fieldRe, recordRe})
		if !ok {
			return none
		}
		if count == 0 {
			count = -1
		}
		return func(yield func(vql.Row) bool) {
			for data := range readEach(ctx, scope, args, "split_records", "filenames") {
				headers, needHeaders := columns, firstIsHeaders
				for _, rec := range res[1].Split(string(data), -1) {
					rec = strings.TrimSuffix(rec, "\r")
					if strings.TrimSpace(rec) == "" {
						continue
					}
					fields := res[0].Split(rec, int(count))
					if needHeaders {
						headers, needHeaders = fields, false
						continue
					}
					if ctx.Err() != nil || !yield(record(headers, fields)) {
						return
					}
				}
			}
		}
	},
}
