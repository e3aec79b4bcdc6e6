package accessors

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// MaxParseBytes bounds the data a parser that needs all of it at once
// (parse_yaml, parse_binary, a zip not on disk) reads through an accessor.
const MaxParseBytes = 64 << 20

// PathValue reads a path argument: a string, bytes or a pathspec, kept as
// a pathspec so that its delegate reaches the accessor.
func PathValue(scope *vql.Scope, callee, name string, v any) (any, bool) {
	switch t := v.(type) {
	case string, *OSPath:
		return t, true
	case []byte:
		return string(t), true
	case fmt.Stringer:
		return t.String(), true
	}
	scope.Errorf("%s: Field %s should be a string or a pathspec not %s", callee, name, value.TypeName(v))
	return nil, false
}

// OpenArg opens the file the argument name holds through the call's
// accessor argument, as a stream; ok is false (and the error logged)
// when it cannot be opened. The caller closes the reader.
func OpenArg(ctx context.Context, scope *vql.Scope, args *vql.Args, callee, name string) (io.ReadCloser, bool) {
	acc := args.String("accessor", "")
	v := args.Value(name)
	if args.Failed() {
		return nil, false
	}
	path, ok := PathValue(scope, callee, name, v)
	if !ok {
		return nil, false
	}
	r, err := Open(ctx, scope, callee, acc, path)
	if err != nil {
		logOpenError(scope, callee, name, err)
		return nil, false
	}
	return r, true
}

// logOpenError logs why a file could not be opened; a refusal was logged
// by the permission check already.
func logOpenError(scope *vql.Scope, callee, name string, err error) {
	if !errors.Is(err, ErrDenied) {
		scope.Errorf("%s: %s: %v", callee, name, err)
	}
}

// ReadArg reads all the data the argument name holds a filename of (up to
// MaxParseBytes), for parsers that need it whole; ok is false (and the
// error logged) when it cannot be read.
func ReadArg(ctx context.Context, scope *vql.Scope, args *vql.Args, callee, name string) ([]byte, bool) {
	r, ok := OpenArg(ctx, scope, args, callee, name)
	if !ok {
		return nil, false
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(Reader(ctx, r), MaxParseBytes+1))
	if err == nil && len(b) > MaxParseBytes {
		err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxParseBytes)
	}
	if err != nil {
		scope.Errorf("%s: %s: %v", callee, name, err)
		return nil, false
	}
	return b, true
}

// PathString is a path argument as messages name it.
func PathString(path any) string { return pathText(path) }
