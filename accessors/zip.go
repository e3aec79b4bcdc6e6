package accessors

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// zipAccessor reads the members of a zip archive. Its path is a pathspec
// whose delegate is the archive — pathspec(DelegatePath="/x.zip",
// Path="dir/member") or its JSON text, as glob(accessor="zip",
// root=pathspec(DelegatePath=…)) writes its OSPath column — and whose
// components name the member.
var zipAccessor = Accessor{Name: "zip", Host: true,
	Doc: "A member of a zip archive: pathspec(DelegatePath=the archive, DelegateAccessor=how to read it, Path=the member).",
	Open: func(ctx context.Context, scope *vql.Scope, path any) (io.ReadCloser, error) {
		z, p, err := openZip(ctx, scope, path)
		if err != nil {
			return nil, err
		}
		f, err := z.r.Open(memberName(p))
		if err != nil {
			z.Close()
			return nil, fmt.Errorf("zip %s: %w", p.DelegatePath, err)
		}
		if st, err := f.Stat(); err == nil && st.IsDir() {
			f.Close()
			z.Close()
			return nil, fmt.Errorf("zip %s: %s is a directory", p.DelegatePath, memberName(p))
		}
		return readCloser(f, f, z), nil
	},
	Stat: func(ctx context.Context, scope *vql.Scope, path any) (*FileInfo, error) {
		z, p, err := openZip(ctx, scope, path)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		st, err := fs.Stat(z.r, memberName(p))
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", p.DelegatePath, err)
		}
		return zipInfo(p, st), nil
	},
	ReadDir: func(ctx context.Context, scope *vql.Scope, path any) ([]*FileInfo, error) {
		z, p, err := openZip(ctx, scope, path)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		entries, err := fs.ReadDir(z.r, memberName(p))
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", p.DelegatePath, err)
		}
		out := make([]*FileInfo, 0, len(entries))
		for _, e := range entries {
			st, err := e.Info()
			if err != nil {
				continue
			}
			child := p.WithComponents(append(append([]string{}, p.Components...), e.Name()))
			out = append(out, zipInfo(child, st))
		}
		return out, nil
	},
}

// memberName is a member's name as archive/zip's file system reads it:
// components joined by /, the archive's root being ".".
func memberName(p *OSPath) string {
	if len(p.Components) == 0 {
		return "."
	}
	return strings.Join(p.Components, "/")
}

func zipInfo(p *OSPath, st fs.FileInfo) *FileInfo {
	fi := &FileInfo{OSPath: p, Name: st.Name(), Size: st.Size(), Mode: FileMode(st.Mode()), Mtime: st.ModTime(), IsDir: st.IsDir()}
	if h, ok := st.Sys().(*zip.FileHeader); ok {
		fi.Data = ordereddict.NewDict().Set("CompressedSize", int64(h.CompressedSize64))
	}
	return fi
}

// archive is an opened zip and what must be closed with it.
type archive struct {
	r      *zip.Reader
	closer io.Closer
}

func (a *archive) Close() error { return a.closer.Close() }

// zipPath reads the zip accessor's path argument as a pathspec.
func zipPath(path any) (*OSPath, error) {
	var p *OSPath
	switch t := path.(type) {
	case *OSPath:
		p = t
	case string:
		p = ParsePath(t, "generic")
	default:
		return nil, fmt.Errorf("zip accessor: the path should be a pathspec, not %T", path)
	}
	if p.DelegatePath == "" {
		return nil, fmt.Errorf("zip accessor: %q names no archive: give pathspec(DelegatePath=the zip file, Path=the member)", pathText(path))
	}
	return p, nil
}

// openZip opens the archive a path's delegate names. A host file is read
// in place (zip needs to seek); another delegate (data, a member of
// another zip) is read into memory, up to MaxParseBytes.
func openZip(ctx context.Context, scope *vql.Scope, path any) (*archive, *OSPath, error) {
	p, err := zipPath(path)
	if err != nil {
		return nil, nil, err
	}
	var delegate any = p.DelegatePath
	if d := ParsePath(p.DelegatePath, "generic"); d.DelegatePath != "" {
		delegate = d
	}
	a, err := readArchive(ctx, scope, "zip", p.DelegateAccessor, delegate)
	return a, p, err
}

// OpenZip opens the zip archive path names through accessor, for a
// caller that reads every member (unzip()): the archive is read once.
func OpenZip(ctx context.Context, scope *vql.Scope, callee, accessor string, path any) (*zip.Reader, io.Closer, error) {
	a, err := readArchive(ctx, scope, callee, accessor, path)
	if err != nil {
		return nil, nil, err
	}
	return a.r, a, nil
}

// readArchive opens a zip file through an accessor.
func readArchive(ctx context.Context, scope *vql.Scope, callee, accessor string, path any) (*archive, error) {
	name := pathText(path)
	rc, err := Open(ctx, scope, callee, accessor, path)
	if err != nil {
		return nil, err
	}
	if f, ok := rc.(*os.File); ok {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		zr, err := zip.NewReader(f, st.Size())
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
		return &archive{zr, f}, nil
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(Reader(ctx, rc), MaxParseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxParseBytes {
		return nil, fmt.Errorf("zip %s: %w: an archive not on disk is read into memory, up to %d bytes", name, ErrTooLarge, MaxParseBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", name, err)
	}
	return &archive{zr, io.NopCloser(nil)}, nil
}

// readCloser reads r and, when closed, closes each of cs in turn: a
// member, then its archive.
func readCloser(r io.Reader, cs ...io.Closer) io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{r, closers(cs)}
}

// closers closes each in turn.
type closers []io.Closer

func (c closers) Close() error {
	var first error
	for _, x := range c {
		if err := x.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
