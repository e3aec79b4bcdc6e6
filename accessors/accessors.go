// Package accessors holds the ways VQL functions that take a filename and
// an accessor read their data. Velociraptor's accessors open files, raw
// disks, archives and registry hives; vqlq has only the ones that do not
// touch the host — "data", whose "filename" is the data itself, and
// "scope" and "pipe", which read the query's variables —
// and refuses the others by name, so an artifact that reads a file fails
// with a message saying so rather than silently reading nothing.
package accessors

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/vqlq/vqlq/vql"
)

// ErrUnknownAccessor is returned for an accessor vqlq does not have.
var ErrUnknownAccessor = errors.New("unknown accessor")

// ErrTooLarge is returned when data is larger than the caller's limit.
var ErrTooLarge = errors.New("data larger than the limit")

// Accessor reads the data a filename names. Read gets the calling
// query's scope: the scope and pipe accessors read its variables.
type Accessor struct {
	Name string
	Doc  string
	// Permissions are what the session must hold to read through the
	// accessor, on top of the calling function's own: an accessor that
	// opens host files needs FILESYSTEM_READ, as in Velociraptor; data,
	// scope and pipe touch nothing outside the query and need none.
	Permissions []vql.Permission
	Read        func(ctx context.Context, scope *vql.Scope, filename string, limit int) ([]byte, error)
}

var registry = map[string]Accessor{
	"data": {
		Name: "data",
		Doc:  "The filename is the data itself (a string); nothing is opened.",
		Read: func(_ context.Context, _ *vql.Scope, filename string, _ int) ([]byte, error) {
			return []byte(filename), nil
		},
	},
	"scope": {
		Name: "scope",
		Doc:  "The filename names a variable of the query; its value (a string) is the data.",
		Read: readScope,
	},
	"pipe": {
		Name: "pipe",
		Doc:  "The filename names a variable holding a pipe(); the data is what its query writes.",
		Read: readPipe,
	},
}

// Default is the accessor used when a call names none. Velociraptor's
// default ("auto") opens host files, which vqlq does not, so a call
// without an accessor is refused the same way as an unknown one.
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

// ErrDenied is returned when the session lacks a permission the accessor
// needs; the refusal itself is logged and audited by the scope.
var ErrDenied = errors.New("permission denied")

// ReadAll returns the data filename names through accessor name, at most
// limit bytes (ErrTooLarge beyond). callee names the calling function in
// a refusal for lack of the accessor's permissions.
func ReadAll(ctx context.Context, scope *vql.Scope, callee, name, filename string, limit int) ([]byte, error) {
	if name == "" {
		name = Default
	}
	a, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("%w %q: vqlq reads no host files; the accessors are data, scope and pipe (accessor=\"data\" passes the text itself)", ErrUnknownAccessor, name)
	}
	if len(a.Permissions) > 0 && !scope.Require(callee+"(accessor="+name+")", a.Permissions...) {
		return nil, ErrDenied
	}
	b, err := a.Read(ctx, scope, filename, limit)
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%w: %s holds %d bytes, more than %d", ErrTooLarge, name, len(b), limit)
	}
	return b, nil
}
