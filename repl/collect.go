package repl

import (
	"context"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
)

// rowCollector is an output.Writer that keeps the rows, for the shell's
// own queries (artifact names for completion and .artifacts).
type rowCollector struct{ rows []*ordereddict.Dict }

func (c *rowCollector) Begin() error                    { return nil }
func (c *rowCollector) Row(row *ordereddict.Dict) error { c.rows = append(c.rows, row); return nil }
func (c *rowCollector) Flush() error                    { return nil }
func (c *rowCollector) End() error                      { return nil }

// collect runs one query of the shell's own on the session's target
// (local or attached) and returns its rows.
func (s *Shell) collect(ctx context.Context, query string) []*ordereddict.Dict {
	prog, err := parser.Parse(query, "")
	if err != nil || len(prog.Statements) != 1 {
		return nil
	}
	c := &rowCollector{}
	if _, ok := prog.Statements[0].(*ast.SelectStmt); !ok {
		return nil
	}
	_, _ = s.target.Statement(ctx, prog.Statements[0], c)
	return c.rows
}
