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
	"os"
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

	format   string
	width    func() int
	height   func() int // nil: not a terminal, no pager
	timing   bool
	headers  bool
	expanded output.Expand
	pager    bool
	org      string
	outFile  *os.File // .output
	once     string   // .once: the file for the next statement's results

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
	// Height reports the terminal height; with it, results longer than
	// the screen go through the pager.
	Height func() int
}

// New starts a session on the backend the flags describe; the data folder
// is opened on first use, so the prompt appears at once.
func New(cfg Config) *Shell {
	s := &Shell{
		out: cfg.Out, errOut: cfg.Err,
		backend: &runner.Backend{Flags: cfg.Flags, ReadFirst: true},
		format:  cfg.Format, width: cfg.Width, height: cfg.Height, org: cfg.Flags.Org,
		lets: map[string]bool{}, headers: true, pager: true,
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

// Close ends the session and releases the data folder (and an .output
// file).
func (s *Shell) Close() {
	s.target.Close()
	if s.outFile != nil {
		s.outFile.Close()
	}
	s.backend.Close()
}

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

// Feed takes one line. A statement typed on one line runs as soon as it
// is complete; once it continues onto a second line it runs only at a
// trailing `;` or an empty line, so that a WHERE typed on the next line is
// never left out of a query that already ran (as psql waits for `;`).
// A real syntax error is reported at once. Feed returns the statement's
// text as one history entry when it ran (or failed), "" while it waits.
func (s *Shell) Feed(ctx context.Context, line string) (historyEntry string) {
	trimmed := strings.TrimSpace(line)
	if s.pending.Len() == 0 {
		if trimmed == "" {
			return ""
		}
		if isCommand(trimmed) {
			s.command(ctx, trimmed)
			return trimmed
		}
		s.pending.WriteString(line)
		return s.feedPending(ctx, parser.EndsWithSemicolon(line))
	}
	if trimmed == "" {
		return s.feedPending(ctx, true)
	}
	s.pending.WriteByte('\n')
	s.pending.WriteString(line)
	return s.feedPending(ctx, parser.EndsWithSemicolon(s.pending.String()))
}

// feedPending parses the statement typed so far and runs it if it is
// complete and may run: typed on one line, or finished (a `;` or an empty
// line). finished on an incomplete statement reports what is missing.
func (s *Shell) feedPending(ctx context.Context, finished bool) string {
	text := s.pending.String()
	multiLine := strings.Contains(text, "\n")
	prog, err := parser.Parse(text, "")
	var se *source.Error
	incomplete := errors.As(err, &se) && se.Incomplete
	if !finished && (incomplete || (err == nil && multiLine)) {
		return ""
	}
	s.pending.Reset()
	entry := historyText(strings.TrimRight(text, "\n"), prog)
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
	dest, done, err := s.destination()
	if err != nil {
		fmt.Fprintln(s.errOut, err)
		s.failed = true
		return
	}
	defer done()
	for _, stmt := range prog.Statements {
		if let, ok := stmt.(*ast.Let); ok {
			s.lets[let.Name.Value] = true
		}
		w, finish, err := s.writer(dest)
		if err != nil {
			fmt.Fprintln(s.errOut, err)
			return
		}
		start := time.Now()
		n, err := s.target.Statement(ctx, stmt, w)
		finish()
		if err != nil {
			fmt.Fprintf(s.errOut, "ERROR:%v\n", err)
		}
		if _, isSelect := stmt.(*ast.SelectStmt); isSelect && s.timing {
			s.printTiming(n, time.Since(start))
		}
		if ctx.Err() != nil {
			fmt.Fprintln(s.errOut, "query cancelled")
			break
		}
	}
	s.failed = s.logs.Failed()
}

// destination is where results go: the .once file (for this input
// only), the .output file, or the terminal.
func (s *Shell) destination() (io.Writer, func(), error) {
	if s.once != "" {
		name := s.once
		s.once = ""
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf(".once: %w", err)
		}
		return f, func() { f.Close() }, nil
	}
	if s.outFile != nil {
		return s.outFile, func() {}, nil
	}
	return s.out, func() {}, nil
}

// writer makes the output writer of one statement: fitted to the
// terminal and paged when results go there, whole when they go to a file.
// finish waits for a pager the statement started.
func (s *Shell) writer(dest io.Writer) (output.Writer, func(), error) {
	opts := output.Options{NoHeaders: !s.headers, Expanded: s.expanded}
	if dest != s.out {
		w, err := output.New(s.format, dest, opts)
		return w, func() {}, err
	}
	if s.width != nil {
		opts.Width = s.width()
	}
	if s.pager && s.height != nil {
		if h := s.height(); h > 2 {
			p, err := newPagedWriter(s.format, opts, dest, pagerCommand(), h-1)
			if err != nil {
				return nil, nil, err
			}
			return p, p.close, nil
		}
	}
	w, err := output.New(s.format, dest, opts)
	return w, func() {}, err
}

// pagerCommand is $PAGER, or less -S.
func pagerCommand() string {
	if p := strings.TrimSpace(os.Getenv("PAGER")); p != "" {
		return p
	}
	return defaultPager
}

// printTiming prints the time a statement took, and its row count where
// the output did not already say it (a table ends with "N rows").
func (s *Shell) printTiming(n int, d time.Duration) {
	d = d.Round(time.Microsecond)
	if s.format == "table" {
		fmt.Fprintf(s.out, "Time: %s\n", d)
		return
	}
	noun := "rows"
	if n == 1 {
		noun = "row"
	}
	fmt.Fprintf(s.out, "%d %s in %s\n", n, noun, d)
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
