package host

import (
	"context"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"sort"

	"github.com/Velocidex/ordereddict"
	"howett.net/plist"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// plistArgs are the arguments of plist() the function and the plugin.
var plistArgs = []vql.ArgSpec{
	{Name: "file", Type: vql.TypeString, Required: true, Doc: "The plist file (or, with accessor=\"data\", the plist itself)."},
	{Name: "accessor", Type: vql.TypeString, Doc: "\"\", \"auto\" or \"file\" read the host's file; data, scope and pipe read the query's data."},
}

// PlistFn parses an Apple property list — binary, XML or OpenStep, told
// apart by howett.net/plist from its content — into VQL values: dicts
// (keys sorted, since the format's order is not kept), lists, strings,
// numbers, booleans, times; data is a string of its bytes, so a plist
// nested as data parses again with accessor="data".
var PlistFn = vql.FunctionFunc{
	Meta: vql.Info{Name: "plist", Doc: "The parsed content of a property list (binary, XML or OpenStep).",
		Args: plistArgs, Permissions: perms(vql.PermFilesystemRead)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
		v, _ := readPlist(ctx, scope, args)
		return v
	},
}

// PlistPlugin is plist() in FROM, as Velociraptor's macOS artifacts call
// it: a list yields a row per item, anything else one row.
var PlistPlugin = vql.PluginFunc{
	Meta: vql.Info{Name: "plist", Doc: "The property list's content as rows: one per item of a top-level list, else one.",
		Args: plistArgs, Permissions: perms(vql.PermFilesystemRead)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			v, ok := readPlist(ctx, scope, args)
			if !ok {
				return
			}
			items, isList := v.([]any)
			if !isList {
				items = []any{v}
			}
			for _, item := range items {
				if _, isDict := item.(*ordereddict.Dict); !isDict {
					item = ordereddict.NewDict().Set("_value", item)
				}
				if ctx.Err() != nil || !yield(item) {
					return
				}
			}
		}
	},
}

func readPlist(ctx context.Context, scope *vql.Scope, args *vql.Args) (any, bool) {
	var data []byte
	switch acc := args.String("accessor", ""); acc {
	case "", "auto", "file":
		file := args.String("file", "")
		if args.Failed() {
			return nil, false
		}
		b, err := readBounded(file, accessors.MaxParseBytes)
		if err != nil {
			scope.Errorf("plist: %v", err)
			return nil, false
		}
		data = b
	default:
		b, ok := accessors.ReadArg(ctx, scope, args, "plist", "file")
		if !ok {
			return nil, false
		}
		data = b
	}
	var v any
	if _, err := plist.Unmarshal(data, &v); err != nil {
		scope.Errorf("plist: %s is not a property list: %v", describeFile(args), err)
		return nil, false
	}
	return plistValue(v), true
}

// describeFile names the file argument in a message, short when it is
// the data itself.
func describeFile(args *vql.Args) string {
	name := fmt.Sprint(args.Value("file"))
	if len(name) > 60 {
		name = name[:60] + "…"
	}
	return fmt.Sprintf("%q", name)
}

// readBounded reads a host file of at most limit bytes.
func readBounded(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, limit)
	}
	return b, nil
}

// plistValue turns what the decoder made into VQL values.
func plistValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := ordereddict.NewDict()
		for _, k := range keys {
			d.Set(k, plistValue(t[k]))
		}
		return d
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plistValue(e)
		}
		return out
	case uint64:
		if t > math.MaxInt64 {
			return float64(t)
		}
		return int64(t)
	case plist.UID:
		return int64(t)
	case []byte:
		return string(t)
	}
	return v
}
