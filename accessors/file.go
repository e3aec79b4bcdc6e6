package accessors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// fileAccessor reads the host's files. "auto" is the same on Linux and
// macOS (Velociraptor's auto falls back to raw NTFS only on Windows), and
// follows a pathspec that has only a delegate to the delegate, so
// pathspec(DelegatePath=…) reads as its file.
func fileAccessor(name, doc string) Accessor {
	return Accessor{Name: name, Doc: doc, Host: true,
		Open: func(ctx context.Context, scope *vql.Scope, path any) (io.ReadCloser, error) {
			if d, ok := delegateOnly(name, path); ok {
				return Open(ctx, scope, name, d.DelegateAccessor, d.DelegatePath)
			}
			f, err := os.Open(HostPath(path))
			if err != nil {
				return nil, err
			}
			if st, err := f.Stat(); err == nil && st.IsDir() {
				f.Close()
				return nil, fmt.Errorf("%s is a directory", f.Name())
			}
			return f, nil
		},
		Stat: func(_ context.Context, _ *vql.Scope, path any) (*FileInfo, error) {
			p := HostPath(path)
			st, err := os.Lstat(p)
			if err != nil {
				return nil, err
			}
			return hostInfo(p, st), nil
		},
		ReadDir: func(ctx context.Context, _ *vql.Scope, path any) ([]*FileInfo, error) {
			return readHostDir(ctx, HostPath(path))
		},
	}
}

// delegateOnly reports a pathspec with a delegate and no path of its own,
// which auto opens through its delegate.
func delegateOnly(name string, path any) (*OSPath, bool) {
	p, ok := path.(*OSPath)
	if !ok || name != "auto" || p.DelegatePath == "" || len(p.Components) > 0 {
		return nil, false
	}
	if p.DelegateAccessor == "" || p.DelegateAccessor == "auto" || p.DelegateAccessor == "file" {
		return &OSPath{DelegateAccessor: "file", DelegatePath: p.DelegatePath}, true
	}
	return p, true
}

// HostPath is the host's name of a path argument: a string as given, a
// pathspec's components under the root (a delegate is not the host's).
func HostPath(path any) string {
	switch p := path.(type) {
	case *OSPath:
		if len(p.Components) == 0 && p.DelegatePath != "" {
			return p.DelegatePath
		}
		return "/" + strings.Join(p.Components, "/")
	case nil:
		return ""
	}
	return pathText(path)
}

// hostInfo describes a file of the host; a link keeps its target in
// Data.Link.
func hostInfo(path string, st fs.FileInfo) *FileInfo {
	fi := &FileInfo{OSPath: ParsePath(path, "linux"), Name: st.Name(), Size: st.Size(), Mode: FileMode(st.Mode()),
		Mtime: st.ModTime(), IsDir: st.IsDir(), IsLink: st.Mode()&fs.ModeSymlink != 0}
	fi.Atime, fi.Ctime, fi.Btime = fileTimes(st)
	if fi.IsLink {
		if target, err := os.Readlink(path); err == nil {
			fi.Data = ordereddict.NewDict().Set("Link", target)
		}
	}
	return fi
}

// readHostDir lists a directory, sorted by name so that a glob's rows
// come in a stable order. An entry that vanished while listing is
// skipped.
func readHostDir(ctx context.Context, dir string) ([]*FileInfo, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*FileInfo
	for ctx.Err() == nil {
		entries, err := f.ReadDir(1024)
		for _, e := range entries {
			st, err := e.Info()
			if err != nil {
				continue
			}
			out = append(out, hostInfo(filepath.Join(dir, e.Name()), st))
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			break
		}
		if err != nil {
			return out, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, ctx.Err()
}
