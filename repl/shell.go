// Package repl is vqlq's interactive prompt. Shell is the core — it takes
// lines and writes results, and is tested through readers and writers —
// and Run drives it from a terminal with line editing, history and tab
// completion (github.com/ergochat/readline).
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/source"
)

// Shell holds one interactive session: its LETs, output mode and the text
// of a statement still being typed.
type Shell struct {
	out, errOut io.Writer
	backend     *runner.Backend
	engine      *vql.Engine // declarations, for help and completion
	target      runner.Target
	logs        *runner.LogPrinter

	format string
	width  func() int
	timing bool
	org    string

	pending strings.Builder // lines of an incomplete statement
	lets    map[string]bool // names defined with LET in this session
	quit    bool
	failed  bool // the last statement logged an error

	// artifacts caches the artifact names completion offers.
	artifacts    []string
	artifactsAt  time.Time
	artifactsOrg string
}

// Config sets up a Shell.
type Config struct {
	Out, Err io.Writer
	Flags    *runner.StoreFlags
	// Format is the initial output mode (default table).
	Format string
	// Width reports the terminal width for tables (nil: unlimited).
	Width func() int
}

// New starts a session on the backend the flags describe; the data folder
// is opened on first use, so the prompt appears at once.
func New(cfg Config) *Shell {
	s := &Shell{
		out: cfg.Out, errOut: cfg.Err,
		backend: &runner.Backend{Flags: cfg.Flags},
		format:  cfg.Format, width: cfg.Width, org: cfg.Flags.Org,
		lets: map[string]bool{},
	}
	if s.format == "" {
		s.format = "table"
	}
	if s.org == "" {
		s.org = queues.DefaultOrg
	}
	s.logs = &runner.LogPrinter{W: cfg.Err}
	s.engine = s.backend.Engine()
	s.target = s.backend.Target(func(m vql.Message) { s.logs.Print(m) })
	return s
}

// Close releases the data folder.
func (s *Shell) Close() { s.backend.Close() }

// Done reports whether the user asked to quit.
func (s *Shell) Done() bool { return s.quit }

// Failed reports whether the last statement logged an error.
func (s *Shell) Failed() bool { return s.failed }

// Prompt is the prompt for the next line: a continuation prompt while a
// statement is incomplete.
func (s *Shell) Prompt() string {
	name := "vqlq"
	if s.org != queues.DefaultOrg {
		name = "vqlq(" + s.org + ")"
	}
	if s.pending.Len() > 0 {
		return strings.Repeat(" ", len(name)-3) + "...> "
	}
	return name + "> "
}

// Reset drops a half-typed statement (Ctrl-C at the prompt).
func (s *Shell) Reset() { s.pending.Reset() }

// Feed takes one line. When it completes a statement (or a dot-command)
// the statement runs under ctx, and Feed returns its text as one history
// entry; while the statement is incomplete it returns "".
func (s *Shell) Feed(ctx context.Context, line string) (historyEntry string) {
	if s.pending.Len() == 0 {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			return ""
		}
		if strings.HasPrefix(trimmed, ".") {
			s.command(ctx, trimmed)
			return trimmed
		}
	} else {
		s.pending.WriteByte('\n')
	}
	s.pending.WriteString(line)
	text := s.pending.String()
	prog, err := parser.Parse(text, "")
	var se *source.Error
	if errors.As(err, &se) && se.Incomplete {
		return ""
	}
	s.pending.Reset()
	entry := historyText(text, prog)
	if err != nil {
		fmt.Fprintln(s.errOut, err)
		s.failed = true
		return entry
	}
	s.run(ctx, prog)
	return entry
}

// historyText makes a statement one history line: lines joined with
// spaces, or, when a line comment would swallow the rest, the canonical
// form.
func historyText(text string, prog *ast.Program) string {
	if !strings.Contains(text, "\n") {
		return text
	}
	if prog != nil && (strings.Contains(text, "--") || strings.Contains(text, "//")) {
		return prog.String()
	}
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " ")
}

// run checks a parsed program (an unknown plugin, function or argument
// runs nothing of it), then executes it statement by statement.
func (s *Shell) run(ctx context.Context, prog *ast.Program) {
	s.logs.Reset()
	if err := s.target.Check(prog); err != nil {
		fmt.Fprintln(s.errOut, err)
		s.failed = true
		return
	}
	for _, stmt := range prog.Statements {
		if let, ok := stmt.(*ast.Let); ok {
			s.lets[let.Name.Value] = true
		}
		width := 0
		if s.width != nil {
			width = s.width()
		}
		w, err := output.New(s.format, s.out, width)
		if err != nil {
			fmt.Fprintln(s.errOut, err)
			return
		}
		start := time.Now()
		n, err := s.target.Statement(ctx, stmt, w)
		if err != nil {
			fmt.Fprintf(s.errOut, "ERROR:%v\n", err)
		}
		if _, isSelect := stmt.(*ast.SelectStmt); isSelect && s.timing {
			noun := "rows"
			if n == 1 {
				noun = "row"
			}
			fmt.Fprintf(s.out, "%d %s in %s\n", n, noun, time.Since(start).Round(time.Microsecond))
		}
		if ctx.Err() != nil {
			fmt.Fprintln(s.errOut, "query cancelled")
			break
		}
	}
	s.failed = s.logs.Failed()
}

// Run runs text as if typed, for .load and tests.
func (s *Shell) Run(ctx context.Context, text, file string) {
	prog, err := parser.Parse(text, file)
	if err != nil {
		fmt.Fprintln(s.errOut, err)
		s.failed = true
		return
	}
	s.run(ctx, prog)
}
