package accessors

import (
	"context"
	"errors"
	"fmt"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// MaxParseBytes bounds the data a parser reads through an accessor.
const MaxParseBytes = 64 << 20

// ReadArg reads the data the argument name holds a filename of,
// through the call's accessor argument; ok is false (and the error
// logged) when it cannot be read.
func ReadArg(ctx context.Context, scope *vql.Scope, args *vql.Args, callee, name string) ([]byte, bool) {
	acc := args.String("accessor", "")
	v := args.Value(name)
	if args.Failed() {
		return nil, false
	}
	var filename string
	switch t := v.(type) {
	case string:
		filename = t
	case []byte:
		filename = string(t)
	case fmt.Stringer:
		filename = t.String()
	default:
		scope.Errorf("%s: Field %s should be a string not %s", callee, name, value.TypeName(v))
		return nil, false
	}
	b, err := ReadAll(ctx, scope, callee, acc, filename, MaxParseBytes)
	if errors.Is(err, ErrDenied) {
		return nil, false
	}
	if err != nil {
		scope.Errorf("%s: %s: %v", callee, name, err)
		return nil, false
	}
	return b, true
}
