// Package accessors holds the ways VQL reads files: the accessor a call
// names (accessor="file", "zip", …) opens a path as a stream, stats it and
// lists a directory. "data", "scope" and "pipe" read the query itself (the
// filename is the data, or names a variable); "file", "auto", "zip" and
// "gzip" read the host's files and need FILESYSTEM_READ, checked against
// the session when the call opens one. Everything is read as a stream, so
// hashing or uploading a large file holds a buffer, not the file.
package accessors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vqlq/vqlq/vql"
)

// ErrUnknownAccessor is returned for an accessor vqlq does not have.
var ErrUnknownAccessor = errors.New("unknown accessor")

// ErrTooLarge is returned when data is larger than the caller's limit.
var ErrTooLarge = errors.New("data larger than the limit")

// ErrDenied is returned when the session may not read host files; the
// refusal has been logged (and audited) already.
var ErrDenied = errors.New("permission denied")

// ErrNotSupported is a stat or a directory listing through an accessor
// that only reads (data, scope, pipe).
var ErrNotSupported = errors.New("not supported by this accessor")

// Accessor opens, stats and lists paths. The path is what the call was
// given: a string (for data, the data itself) or an *OSPath (a pathspec,
// a glob's OSPath column).
type Accessor struct {
	Name string
	Doc  string
	// Host marks accessors that read the host's files: a session needs
	// FILESYSTEM_READ to use them.
	Host bool
	// Needs are permissions the session must hold besides (fs, the file
	// store's accessor, needs READ_RESULTS).
	Needs   []vql.Permission
	Open    func(ctx context.Context, scope *vql.Scope, path any) (io.ReadCloser, error)
	Stat    func(ctx context.Context, scope *vql.Scope, path any) (*FileInfo, error)
	ReadDir func(ctx context.Context, scope *vql.Scope, path any) ([]*FileInfo, error)
}

var registry = map[string]Accessor{}

func register(a Accessor) { registry[a.Name] = a }

// Register adds an accessor another package provides (the file store's
// fs). It is called from package init only: the registry is read without
// a lock afterwards.
func Register(a Accessor) { register(a) }

func init() {
	register(Accessor{Name: "data", Doc: "The filename is the data itself (a string); nothing is opened.",
		Open: func(_ context.Context, _ *vql.Scope, path any) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(pathText(path))), nil
		}})
	register(Accessor{Name: "scope", Doc: "The filename names a variable of the query; its value (a string) is the data.",
		Open: readerOf(readScope)})
	register(Accessor{Name: "pipe", Doc: "The filename names a variable holding a pipe(); the data is what its query writes.",
		Open: readerOf(readPipe)})
	register(fileAccessor("file", "A file of the host, by its path."))
	register(fileAccessor("auto", "A file of the host (the file accessor; a pathspec with only a delegate opens the delegate)."))
	register(zipAccessor)
	register(gzipAccessor)
}

// Permissions are what a session must hold to read through the accessor,
// on top of the calling function's own, as help() shows them.
func (a Accessor) Permissions() []vql.Permission {
	var out []vql.Permission
	if a.Host {
		out = append(out, vql.PermFilesystemRead)
	}
	return append(out, a.Needs...)
}

// Default is the accessor used when a call names none, as in Velociraptor.
const Default = "auto"

// All lists the accessors, by name.
func All() []Accessor {
	out := make([]Accessor, 0, len(registry))
	for _, a := range registry {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get finds an accessor and checks that the session may use it: a host
// accessor needs FILESYSTEM_READ (refused through scope.Require, which
// logs and audits, as ErrDenied). callee names the call in the refusal.
func Get(scope *vql.Scope, callee, name string) (Accessor, error) {
	if name == "" {
		name = Default
	}
	a, ok := registry[name]
	if !ok {
		return Accessor{}, fmt.Errorf("%w %q (vqlq has %s)", ErrUnknownAccessor, name, names())
	}
	if a.Host {
		if scope == nil {
			return Accessor{}, fmt.Errorf("%s accessor: %w", name, errNoScope)
		}
		if !scope.Require(callee, vql.PermFilesystemRead) {
			return Accessor{}, ErrDenied
		}
	}
	for _, p := range a.Needs {
		if scope == nil {
			return Accessor{}, fmt.Errorf("%s accessor: %w", name, errNoScope)
		}
		if !scope.Require(callee, p) {
			return Accessor{}, ErrDenied
		}
	}
	return a, nil
}

func names() string {
	var n []string
	for _, a := range All() {
		n = append(n, a.Name)
	}
	return strings.Join(n, ", ")
}

// Open opens path through the accessor name.
func Open(ctx context.Context, scope *vql.Scope, callee, name string, path any) (io.ReadCloser, error) {
	a, err := Get(scope, callee, name)
	if err != nil {
		return nil, err
	}
	return a.Open(ctx, scope, path)
}

// Stat describes path through the accessor name.
func Stat(ctx context.Context, scope *vql.Scope, callee, name string, path any) (*FileInfo, error) {
	a, err := Get(scope, callee, name)
	if err != nil {
		return nil, err
	}
	if a.Stat == nil {
		return nil, fmt.Errorf("stat: %s accessor: %w", a.Name, ErrNotSupported)
	}
	return a.Stat(ctx, scope, path)
}

// ReadAll returns the data filename names through accessor name, at most
// limit bytes (ErrTooLarge beyond).
func ReadAll(ctx context.Context, scope *vql.Scope, name string, filename any, limit int) ([]byte, error) {
	r, err := Open(ctx, scope, "read", name, filename)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%w: %s holds more than %d bytes", ErrTooLarge, pathText(filename), limit)
	}
	return b, nil
}

// ctxReader stops a read when the query is cancelled, so that hashing or
// copying a large file ends with its query.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Reader wraps r so that reading it stops when ctx ends.
func Reader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// pathText is a path argument as text: a string as it is, a pathspec as
// Velociraptor writes it.
func pathText(path any) string {
	switch p := path.(type) {
	case string:
		return p
	case []byte:
		return string(p)
	case fmt.Stringer:
		return p.String()
	case nil:
		return ""
	}
	return fmt.Sprint(path)
}

// readerOf makes an Open of a function that reads the whole value (the
// scope and pipe accessors: the value is in memory already).
func readerOf(read func(ctx context.Context, scope *vql.Scope, name string, limit int) ([]byte, error)) func(context.Context, *vql.Scope, any) (io.ReadCloser, error) {
	return func(ctx context.Context, scope *vql.Scope, path any) (io.ReadCloser, error) {
		b, err := read(ctx, scope, pathText(path), MaxParseBytes)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader(string(b))), nil
	}
}
