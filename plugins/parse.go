package plugins

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Parsers that yield rows: one per regex match, per JSON array element,
// per JSON line. Their files are read through an accessor.

var accessorSpec = vql.ArgSpec{Name: "accessor", Type: vql.TypeString, Doc: `How to read the file: file or auto (the default; a host file), zip, gzip, or data (the filename is the data itself), scope, pipe.`}

// ParseRecordsWithRegex yields one row per match of each regex, holding
// the match's named groups.
var ParseRecordsWithRegex = vql.PluginFunc{
	Meta: vql.Info{
		Name: "parse_records_with_regex",
		Doc:  "One row per match of each regex in the file, with the match's named groups as columns.",
		Args: []vql.ArgSpec{
			{Name: "file", Type: vql.TypeList, Required: true, Doc: "The file (or files) to parse; with accessor=\"data\" the text itself."},
			{Name: "regex", Type: vql.TypeList, Required: true, Doc: "A regex or a list of them; named groups (?P<name>…) become columns."},
			accessorSpec,
			{Name: "buffer_size", Type: vql.TypeInt, Doc: "Accepted for compatibility; vqlq matches the whole file (up to 64 MiB)."},
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		patterns := args.Strings("regex")
		if args.Failed() {
			return none
		}
		res, ok := CompileRegexes(scope, "parse_records_with_regex", patterns)
		if !ok {
			return none
		}
		return func(yield func(vql.Row) bool) {
			for r := range openEach(ctx, scope, args, "parse_records_with_regex", "file") {
				data, err := io.ReadAll(io.LimitReader(r, accessors.MaxParseBytes+1))
				if err != nil || len(data) > accessors.MaxParseBytes {
					scanError(ctx, scope, "parse_records_with_regex", cmp.Or(err, error(accessors.ErrTooLarge)))
					continue
				}
				s := string(data)
				for _, re := range res {
					for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
						if ctx.Err() != nil {
							return
						}
						row := ordereddict.NewDict()
						for i, name := range re.SubexpNames() {
							if i == 0 || name == "" {
								continue
							}
							if loc[2*i] >= 0 {
								row.Set(name, s[loc[2*i]:loc[2*i+1]])
							} else {
								row.Set(name, "")
							}
						}
						if !yield(row) {
							return
						}
					}
				}
			}
		}
	},
}

// jsonRow makes a row of a decoded JSON value: a dict is the row, anything
// else is {_value: v}.
func jsonRow(v any) vql.Row {
	if d, ok := v.(*ordereddict.Dict); ok {
		return d
	}
	return ordereddict.NewDict().Set("_value", v)
}

// ParseJSONArray yields the elements of a JSON array.
var ParseJSONArray = vql.PluginFunc{
	Meta: vql.Info{
		Name: "parse_json_array",
		Doc:  "One row per element of a JSON array (a dict element is the row, others are {_value}).",
		Args: []vql.ArgSpec{{Name: "data", Type: vql.TypeString, Required: true, Doc: "The JSON text."}},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		l, ok := DecodeJSONArray(scope, "parse_json_array", args)
		if !ok {
			return none
		}
		return func(yield func(vql.Row) bool) {
			for _, e := range l {
				if !yield(jsonRow(e)) {
					return
				}
			}
		}
	},
}

// ParseJSONL yields one row per line of JSON. Like Velociraptor it skips
// empty and corrupt lines (each corrupt one is logged at DEBUG) so one
// bad line does not lose the rest.
var ParseJSONL = vql.PluginFunc{
	Meta: vql.Info{
		Name: "parse_jsonl",
		Doc:  "One row per line of JSON (a dict line is the row, others are {_value}); bad lines are skipped.",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeAny, Required: true, Doc: "The file of JSON lines; with accessor=\"data\" the text itself."},
			accessorSpec,
		},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			for r := range openEach(ctx, scope, args, "parse_jsonl", "filename") {
				sc := lineScanner(r, 0)
				for n := 1; sc.Scan(); n++ {
					if ctx.Err() != nil {
						return
					}
					line := sc.Bytes()
					if len(bytes.TrimSpace(line)) == 0 {
						continue
					}
					v, err := value.DecodeJSON(line)
					if err != nil {
						scope.Log(vql.LevelDebug, "parse_jsonl: line %d skipped: %v", n, err)
						continue
					}
					if !yield(jsonRow(v)) {
						return
					}
				}
				scanError(ctx, scope, "parse_jsonl", sc.Err())
			}
		}
	},
}

// DecodeJSONArray reads the data argument as a JSON array; a JSON value
// that is not an array is refused.
func DecodeJSONArray(scope *vql.Scope, callee string, args *vql.Args) ([]any, bool) {
	s := args.String("data", "")
	if args.Failed() {
		return nil, false
	}
	v, err := value.DecodeJSON([]byte(s))
	if err != nil {
		scope.Errorf("%s: %v", callee, err)
		return nil, false
	}
	l, ok := v.([]any)
	if !ok {
		scope.Errorf("%s: the data is a JSON %s, not an array", callee, value.TypeName(v))
		return nil, false
	}
	return l, true
}
