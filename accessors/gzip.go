package accessors

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/vqlq/vqlq/vql"
)

// gzipAccessor reads a gzip-compressed file of the host decompressed, as
// it streams: read_file(accessor="gzip") of a rotated log. Stat and
// directory listings are the file accessor's, so glob(accessor="gzip")
// finds the files to read.
var gzipAccessor = Accessor{Name: "gzip", Host: true,
	Doc: "A gzip-compressed file of the host, read decompressed.",
	Open: func(ctx context.Context, scope *vql.Scope, path any) (io.ReadCloser, error) {
		f, err := Open(ctx, scope, "gzip", "file", path)
		if err != nil {
			return nil, err
		}
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("gzip %s: %w", HostPath(path), err)
		}
		return readCloser(z, z, f), nil
	},
	Stat: func(ctx context.Context, scope *vql.Scope, path any) (*FileInfo, error) {
		return Stat(ctx, scope, "gzip", "file", path)
	},
	ReadDir: func(ctx context.Context, scope *vql.Scope, path any) ([]*FileInfo, error) {
		return registry["file"].ReadDir(ctx, scope, path)
	},
}
