package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/vql"
)

// The fs accessor reads the session's org's file store, as Velociraptor's
// does: paths are file store paths (/clients/<client>/collections/…,
// /downloads/…), what glob() lists and file_store_delete() takes.
// Server artifacts such as Server.Utils.DeleteMonitoringData walk it. It
// only reads, and never leaves the org's folder.
func init() {
	accessors.Register(accessors.Accessor{Name: "fs",
		Doc:   "The file store of the session's org (results of flows, downloads), by file store path; needs READ_RESULTS.",
		Needs: []vql.Permission{vql.PermReadResults},
		Open: func(ctx context.Context, scope *vql.Scope, path any) (io.ReadCloser, error) {
			real, _, err := fsReal(scope, path)
			if err != nil {
				return nil, err
			}
			f, err := os.Open(real)
			if err != nil {
				return nil, fsError(path, err)
			}
			if st, err := f.Stat(); err == nil && st.IsDir() {
				f.Close()
				return nil, fmt.Errorf("fs: %s is a directory", fsText(path))
			}
			return f, nil
		},
		Stat: func(_ context.Context, scope *vql.Scope, path any) (*accessors.FileInfo, error) {
			real, parts, err := fsReal(scope, path)
			if err != nil {
				return nil, err
			}
			st, err := os.Lstat(real)
			if err != nil {
				return nil, fsError(path, err)
			}
			return fsInfo(parts, st), nil
		},
		ReadDir: func(ctx context.Context, scope *vql.Scope, path any) ([]*accessors.FileInfo, error) {
			real, parts, err := fsReal(scope, path)
			if err != nil {
				return nil, err
			}
			entries, err := os.ReadDir(real)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, nil // nothing stored there yet
				}
				return nil, fsError(path, err)
			}
			out := make([]*accessors.FileInfo, 0, len(entries))
			for _, e := range entries {
				if ctx.Err() != nil {
					return out, ctx.Err()
				}
				st, err := e.Info()
				if err != nil {
					continue // removed while listing
				}
				out = append(out, fsInfo(append(parts[:len(parts):len(parts)], e.Name()), st))
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			return out, nil
		},
	})
}

// fsText is a path argument as the file store path it names.
func fsText(path any) string {
	if p, ok := path.(*accessors.OSPath); ok {
		return "/" + strings.Join(p.Components, "/")
	}
	return accessors.PathString(path)
}

// fsReal is the file on disk behind a file store path of the session's
// org, and the path's components; "/" is the org's folder.
func fsReal(scope *vql.Scope, path any) (string, []string, error) {
	store, err := fileStoreOf(scope)
	if err != nil {
		return "", nil, fmt.Errorf("fs: %w", err)
	}
	text := fsText(path)
	if strings.Trim(text, "/\\.") == "" && !strings.Contains(text, "..") {
		return store.orgDir(plugins.OrgOf(scope)), nil, nil
	}
	parts, err := splitPath(text)
	if err != nil {
		return "", nil, fmt.Errorf("fs: %w", err)
	}
	return filepath.Join(append([]string{store.orgDir(plugins.OrgOf(scope))}, parts...)...), parts, nil
}

// fsError names the file store path, not the host's, in a failure.
func fsError(path any, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("fs: %s: %w", fsText(path), pe.Err)
	}
	return fmt.Errorf("fs: %w", err)
}

func fsInfo(parts []string, st os.FileInfo) *accessors.FileInfo {
	return &accessors.FileInfo{OSPath: accessors.ParsePath("/"+strings.Join(parts, "/"), "linux"),
		Name: st.Name(), Size: st.Size(), Mode: accessors.FileMode(st.Mode()), Mtime: st.ModTime(),
		IsDir: st.IsDir(), IsLink: st.Mode()&os.ModeSymlink != 0}
}
