package accessors

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Pipe is what pipe() returns: a query whose rows, read through the pipe
// accessor, become text — one row per line (or per sep). It lets a
// query's output feed a function that reads a file (upload, read_file,
// parse_lines) without a temporary file.
type Pipe struct {
	Query any
	Sep   string
}

// String names the pipe in messages.
func (p *Pipe) String() string { return "pipe" }

// Text runs the query and writes each row: its one column's value as
// text, or the row as JSON when it has several columns; each followed by
// Sep. It stops with ErrTooLarge past limit bytes.
func (p *Pipe) Text(ctx context.Context, scope *vql.Scope, limit int) ([]byte, error) {
	var b strings.Builder
	for row := range scope.RowsOf(ctx, p.Query) {
		var v any = row
		if keys := value.Keys(row); len(keys) == 1 {
			v, _ = value.Member(row, keys[0])
		}
		v = scope.Materialize(ctx, v)
		if s, ok := v.(string); ok {
			b.WriteString(s)
		} else {
			j, err := value.EncodeJSON(v)
			if err != nil {
				return nil, err
			}
			b.Write(j)
		}
		b.WriteString(p.Sep)
		if b.Len() > limit {
			return nil, fmt.Errorf("%w: the pipe wrote more than %d bytes", ErrTooLarge, limit)
		}
	}
	return []byte(b.String()), nil
}

// errNoScope is a scope or pipe read outside a query.
var errNoScope = errors.New("no query scope to read variables from")

// variable reads the query variable a scope or pipe filename names.
func variable(ctx context.Context, scope *vql.Scope, accessor, name string) (any, error) {
	if scope == nil {
		return nil, fmt.Errorf("%s accessor: %w", accessor, errNoScope)
	}
	v, ok := scope.Var(ctx, name)
	if !ok {
		return nil, fmt.Errorf("%s accessor: no variable named %q", accessor, name)
	}
	return scope.Materialize(ctx, v), nil
}

func readScope(ctx context.Context, scope *vql.Scope, name string, _ int) ([]byte, error) {
	v, err := variable(ctx, scope, "scope", name)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case string:
		return []byte(t), nil
	case []byte:
		return t, nil
	}
	return nil, fmt.Errorf("scope accessor: variable %q holds %s, not a string", name, value.TypeName(v))
}

func readPipe(ctx context.Context, scope *vql.Scope, name string, limit int) ([]byte, error) {
	v, err := variable(ctx, scope, "pipe", name)
	if err != nil {
		return nil, err
	}
	p, ok := v.(*Pipe)
	if !ok {
		return nil, fmt.Errorf("pipe accessor: variable %q holds %s, not a pipe()", name, value.TypeName(v))
	}
	return p.Text(ctx, scope, limit)
}
