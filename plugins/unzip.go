package plugins

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// Unzip extracts a zip or tar.gz archive into a folder. Archives are
// hostile input: a member named ../../etc/cron.d/x, or one written
// through a link planted by an earlier member or already in the folder,
// must not land outside it. Every member is written through an os.Root
// of the output folder (which refuses any path, or link, that leaves
// it), names that are not local are refused outright, and links in the
// archive are not made.
var Unzip = vql.PluginFunc{
	Meta: vql.Info{
		Name: "unzip",
		Doc:  "Extract the archive (zip or tar.gz) into output_directory: one row {OriginalPath, NewPath, Size} per file written.",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeAny, Required: true, Doc: "The archive (a path or a pathspec)."},
			accessorSpec,
			{Name: "filename_filter", Type: vql.TypeString, Doc: "Only extract members whose name matches this regex."},
			{Name: "output_directory", Type: vql.TypeString, Required: true, Doc: "Where to extract to (made if missing)."},
			{Name: "type", Type: vql.TypeString, Doc: "zip, tgz or tar.gz (default: from the file's extension, else zip)."},
		},
		Permissions: []vql.Permission{vql.PermFilesystemWrite, vql.PermFilesystemRead},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		acc, filter, out, typ := args.String("accessor", ""), args.String("filename_filter", ""), args.String("output_directory", ""), args.String("type", "")
		file, ok := accessors.PathValue(scope, "unzip", "filename", args.Value("filename"))
		if args.Failed() || !ok {
			return none
		}
		var re *regexp.Regexp
		if filter != "" {
			res, ok := CompileRegexes(scope, "unzip", []string{filter})
			if !ok {
				return none
			}
			re = res[0]
		}
		if typ == "" {
			typ = archiveType(accessors.PathString(file))
		}
		if typ != "zip" && typ != "tgz" && typ != "tar.gz" {
			scope.Errorf("unzip: type %q: want zip, tgz or tar.gz", typ)
			return none
		}
		if out == "" {
			scope.Errorf("unzip: output_directory is empty")
			return none
		}
		return func(yield func(vql.Row) bool) {
			if err := os.MkdirAll(out, 0o755); err != nil {
				scope.Errorf("unzip: %v", err)
				return
			}
			root, err := os.OpenRoot(out)
			if err != nil {
				scope.Errorf("unzip: %v", err)
				return
			}
			defer root.Close()
			x := &extractor{ctx: ctx, scope: scope, root: root, out: out, filter: re, yield: yield}
			if typ == "zip" {
				err = x.zip(acc, file)
			} else {
				err = x.tarGz(acc, file)
			}
			if err != nil && !errors.Is(err, accessors.ErrDenied) && !errors.Is(err, errStopped) {
				scope.Errorf("unzip: %v", err)
			}
		}
	},
}

// errStopped is the consumer having had enough rows.
var errStopped = errors.New("stopped")

func archiveType(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"):
		return "tar.gz"
	case strings.HasSuffix(lower, ".tgz"):
		return "tgz"
	}
	return "zip"
}

type extractor struct {
	ctx    context.Context
	scope  *vql.Scope
	root   *os.Root
	out    string
	filter *regexp.Regexp
	yield  func(vql.Row) bool
}

func (x *extractor) zip(acc string, file any) error {
	zr, closer, err := accessors.OpenZip(x.ctx, x.scope, "unzip", acc, file)
	if err != nil {
		return err
	}
	defer closer.Close()
	for _, f := range zr.File {
		if x.ctx.Err() != nil {
			return x.ctx.Err()
		}
		if f.Mode()&os.ModeSymlink != 0 {
			x.scope.Log(vql.LevelWarn, "unzip: %s: a link, not made", f.Name)
			continue
		}
		err := x.member(f.Name, f.FileInfo().IsDir(), func() (io.ReadCloser, error) { return f.Open() })
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) tarGz(acc string, file any) error {
	r, err := accessors.Open(x.ctx, x.scope, "unzip", acc, file)
	if err != nil {
		return err
	}
	defer r.Close()
	gz, err := gzip.NewReader(accessors.Reader(x.ctx, r))
	if err != nil {
		return fmt.Errorf("%s: %w", accessors.PathString(file), err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", accessors.PathString(file), err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			x.scope.Log(vql.LevelWarn, "unzip: %s: not a file or a folder, not made", h.Name)
			continue
		}
		err = x.member(h.Name, h.Typeflag == tar.TypeDir, func() (io.ReadCloser, error) { return io.NopCloser(tr), nil })
		if err != nil {
			return err
		}
	}
}

// member writes one member; a name that is not local to the folder is
// refused (logged), and a write the root refuses is an error of that
// member only.
func (x *extractor) member(name string, isDir bool, open func() (io.ReadCloser, error)) error {
	clean := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, `\`, "/")), "/")
	if clean == "" || !isLocal(name) {
		x.scope.Errorf("unzip: %q: not a name inside the output directory, skipped", name)
		return nil
	}
	if x.filter != nil && !x.filter.MatchString(name) {
		return nil
	}
	if isDir {
		if err := x.root.MkdirAll(clean, 0o755); err != nil {
			x.scope.Errorf("unzip: %s: %v", name, err)
		}
		return nil
	}
	n, err := x.write(clean, open)
	if err != nil {
		x.scope.Errorf("unzip: %s: %v", name, err)
		return nil
	}
	row := ordereddict.NewDict().Set("OriginalPath", name).Set("NewPath", x.out+"/"+clean).Set("Size", n)
	if !x.yield(row) {
		return errStopped
	}
	return nil
}

func (x *extractor) write(clean string, open func() (io.ReadCloser, error)) (int64, error) {
	if dir := path.Dir(clean); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
	}
	src, err := open()
	if err != nil {
		return 0, err
	}
	defer src.Close()
	f, err := x.root.OpenFile(clean, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, accessors.Reader(x.ctx, src))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// isLocal reports whether an archive's member name stays inside the
// folder it is extracted to: relative, without a .. that climbs out, in
// either separator.
func isLocal(name string) bool {
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':') {
		return false
	}
	depth := 0
	for _, c := range strings.Split(n, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return true
}
