package plugins

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"regexp"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Line and record parsers: text files, read through an accessor as they
// stream, as rows.

// openEach opens every file of the list argument name through the
// call's accessor, in turn, as a stream (closed when the consumer moves
// on); those that cannot be opened are logged and skipped.
func openEach(ctx context.Context, scope *vql.Scope, args *vql.Args, callee, name string) iter.Seq[io.Reader] {
	acc, v := args.String("accessor", ""), args.Value(name)
	files, isList := value.AsList(v)
	if !isList {
		files = []any{v}
	}
	return func(yield func(io.Reader) bool) {
		for _, f := range files {
			path, ok := accessors.PathValue(scope, callee, name, f)
			if !ok {
				continue
			}
			r, err := accessors.Open(ctx, scope, callee, acc, path)
			if err != nil {
				logAccessorError(scope, callee, err)
				continue
			}
			more := yield(accessors.Reader(ctx, r))
			r.Close()
			if !more {
				return
			}
		}
	}
}

// MaxLine bounds one line (or record) of a parsed file.
const MaxLine = 16 << 20

// lineScanner splits a stream into lines (\n or \r\n), each up to
// MaxLine bytes or buffer_size when larger.
func lineScanner(r io.Reader, bufferSize int64) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), int(max(MaxLine, min(bufferSize, accessors.MaxParseBytes))))
	return sc
}

// scanError logs a stream that stopped before its end (a line over the
// limit, a read error); a cancelled query is not an error.
func scanError(ctx context.Context, scope *vql.Scope, callee string, err error) {
	if err != nil && ctx.Err() == nil {
		scope.Errorf("%s: %v", callee, err)
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
			{Name: "buffer_size", Type: vql.TypeInt, Doc: "The longest line read (default 16 MiB)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			size := args.Int("buffer_size", 0)
			for r := range openEach(ctx, scope, args, "parse_lines", "filename") {
				sc := lineScanner(r, size)
				for sc.Scan() {
					if ctx.Err() != nil || !yield(ordereddict.NewDict().Set("Line", sc.Text())) {
						return
					}
				}
				scanError(ctx, scope, "parse_lines", sc.Err())
			}
		}
	},
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
			for data := range openEach(ctx, scope, args, "parse_csv", "filename") {
				r := csv.NewReader(bufio.NewReader(data))
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
					var parseErr *csv.ParseError
					if err != nil && !errors.As(err, &parseErr) {
						scanError(ctx, scope, "parse_csv", err)
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
			for r := range openEach(ctx, scope, args, "split_records", "filenames") {
				headers, needHeaders := columns, firstIsHeaders
				sc := lineScanner(r, 0)
				sc.Split(splitByRegex(res[1]))
				for sc.Scan() {
					rec := strings.TrimSuffix(sc.Text(), "\r")
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
				scanError(ctx, scope, "split_records", sc.Err())
			}
		}
	},
}

// splitByRegex splits a stream at each match of re. A match that reaches
// the end of what is buffered may grow with more data, so it is taken
// only at the end of the stream.
func splitByRegex(re *regexp.Regexp) bufio.SplitFunc {
	return func(data []byte, atEOF bool) (int, []byte, error) {
		for start := 0; start < len(data); {
			loc := re.FindIndex(data[start:])
			if loc == nil || (loc[1]+start == len(data) && !atEOF) {
				break
			}
			if loc[1] == loc[0] { // an empty match splits nothing
				start += loc[1] + 1
				continue
			}
			return start + loc[1], data[:start+loc[0]], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
}
