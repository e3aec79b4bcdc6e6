package host

import (
	"context"
	"fmt"
	"iter"
	"math"
	"sort"

	"github.com/Velocidex/ordereddict"
	"howett.net/plist"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// plistArgs are the arguments of plist() the function and the plugin.
var plistArgs = []vql.ArgSpec{
	{Name: "file", Type: vql.TypeAny, Required: true, Doc: "The plist's path or pathspec (with accessor=\"data\", the plist itself)."},
	{Name: "accessor", Type: vql.TypeString, Doc: "How to read it (default auto: the host's files, FILESYSTEM_READ)."},
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
	data, ok := accessors.ReadArg(ctx, scope, args, "plist", "file")
	if !ok {
		return nil, false
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
	name := accessors.PathString(args.Value("file"))
	if len(name) > 60 {
		name = name[:60] + "…"
	}
	return fmt.Sprintf("%q", name)
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
