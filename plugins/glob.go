package plugins

import (
	"context"
	"errors"
	"iter"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Glob finds files by pattern through an accessor: the most used plugin
// of Velociraptor's artifacts, with its arguments and columns.
var Glob = vql.PluginFunc{
	Meta: vql.Info{
		Name: "glob",
		Doc:  "One row per file the globs match under root (Name, Mtime, Atime, Ctime, Btime, Size, Mode, IsDir, IsLink, Data, Globs, OSPath).",
		Args: []vql.ArgSpec{
			{Name: "globs", Type: vql.TypeList, Required: true, Doc: "Patterns: * ? [a-z] within a component, {a,b} alternatives, ** any depth (**5: up to 5); case-insensitive."},
			{Name: "root", Type: vql.TypeAny, Doc: "Where relative globs start (a path or a pathspec; default /)."},
			accessorSpec,
			{Name: "nosymlink", Type: vql.TypeBool, Doc: "Do not descend into links to directories."},
			{Name: "recursion_callback", Type: vql.TypeString, Doc: "A lambda given each directory before it is entered: x => NOT x.Name =~ 'proc'."},
			{Name: "one_filesystem", Type: vql.TypeBool, Doc: "Accepted for compatibility."},
		},
		Permissions: []vql.Permission{vql.PermFilesystemRead},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		globs, acc, nosymlink := args.Strings("globs"), args.String("accessor", ""), args.Bool("nosymlink", false)
		callback, hasCallback := vql.LambdaArg(scope, args, "glob", "recursion_callback")
		if args.Failed() || (args.Has("recursion_callback") && !hasCallback) {
			return none
		}
		g, err := accessors.CompileGlobs(globs)
		if err != nil {
			scope.Errorf("glob: %v", err)
			return none
		}
		var root any = "/"
		if v := args.Value("root"); v != nil && v != "" {
			var ok bool
			if root, ok = accessors.PathValue(scope, "glob", "root", v); !ok {
				return none
			}
		}
		a, err := accessors.Get(scope, "glob", acc)
		if err != nil {
			logAccessorError(scope, "glob", err)
			return none
		}
		opts := accessors.WalkOptions{NoSymlink: nosymlink}
		if hasCallback {
			opts.Descend = func(f *accessors.FileInfo) bool {
				return value.Truthy(callback.Eval(ctx, scope, f))
			}
		}
		return func(yield func(vql.Row) bool) {
			for f := range g.Walk(ctx, scope, a, root, opts) {
				if !yield(f) {
					return
				}
			}
		}
	},
}

// Stat describes files without matching patterns.
var Stat = vql.PluginFunc{
	Meta: vql.Info{
		Name: "stat",
		Doc:  "One row per file named, with glob()'s columns; a link is described, not followed.",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeList, Required: true, Doc: "The files (paths or pathspecs)."},
			accessorSpec,
		},
		Permissions: []vql.Permission{vql.PermFilesystemRead},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		acc, v := args.String("accessor", ""), args.Value("filename")
		if args.Failed() {
			return none
		}
		files, isList := value.AsList(v)
		if !isList {
			files = []any{v}
		}
		return func(yield func(vql.Row) bool) {
			for _, f := range files {
				path, ok := accessors.PathValue(scope, "stat", "filename", f)
				if !ok {
					continue
				}
				info, err := accessors.Stat(ctx, scope, "stat", acc, path)
				if err != nil {
					logAccessorError(scope, "stat", err)
					continue
				}
				if !yield(info) {
					return
				}
			}
		}
	},
}

// logAccessorError logs why an accessor failed; a permission refusal has
// been logged already.
func logAccessorError(scope *vql.Scope, callee string, err error) {
	if !errors.Is(err, accessors.ErrDenied) {
		scope.Errorf("%s: %v", callee, err)
	}
}
