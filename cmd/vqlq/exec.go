package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/repl"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql/parser"
)

// options are the flags query and run share.
type options struct {
	format string
	store  runner.StoreFlags
}

func parseFlags(name string, args []string, stdout, stderr io.Writer) (*options, []string, int, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.format, "format", "", "output format: json, jsonl, csv or table")
	o.store.Register(fs)
	o.store.RegisterDeny(fs)
	if code, ok := parseCommandFlags(fs, args, stdout); !ok {
		return nil, nil, code, false
	}
	skipped, err := o.store.Check()
	if err != nil {
		fmt.Fprintf(stderr, "vqlq %s: %v\n", name, err)
		return nil, nil, exitUsage, false
	}
	runner.WarnNotLoaded(stderr, skipped)
	return o, fs.Args(), exitOK, true
}

// commandName is the command line a flag set belongs to: "vqlq serve".
func commandName(fs *flag.FlagSet) string {
	return strings.TrimSpace("vqlq " + strings.TrimPrefix(fs.Name(), "vqlq"))
}

// parseCommandFlags parses a command's flags, wherever they are among its
// arguments. Asked for --help, it prints the flags on stdout and the
// command ends with status 0, as a command line tool's does; a bad flag
// is a usage error (the flag package has said which).
func parseCommandFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	fs.Usage = func() {} // the flag package has named the bad flag; the list is for --help
	err := fs.Parse(flagsFirst(args))
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "Usage of %s:\n", commandName(fs))
		fs.PrintDefaults()
		return exitOK, false
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "%s --help lists its flags\n", commandName(fs))
		return exitUsage, false
	}
	return exitOK, true
}

// flagsFirst moves flags (every flag of vqlq takes a value) before the
// positional arguments, so `vqlq query "SELECT …" --format csv` works as
// users expect. A lone "-" (stdin) is positional; "--" ends the flags.
func flagsFirst(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(append(flags, "--"), append(rest, args[i+1:]...)...)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if !strings.Contains(a, "=") && a != "-h" && a != "--help" && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(append(flags, "--"), rest...)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newWriter(o *options, stdout, stderr io.Writer) (output.Writer, bool) {
	format := o.format
	width := 0
	if isTerminal(stdout) {
		if w, _, err := term.GetSize(int(stdout.(*os.File).Fd())); err == nil {
			width = w
		}
		if format == "" {
			format = "table"
		}
	}
	if format == "" {
		format = "json"
	}
	w, err := output.New(format, stdout, output.Options{Width: width})
	if err != nil {
		fmt.Fprintf(stderr, "vqlq: %v\n", err)
		return nil, false
	}
	return w, true
}

// readSource reads a query or script argument; "-" is stdin.
func readSource(arg string, stdin io.Reader, fromFile bool) (text, name string, err error) {
	if arg == "-" {
		b, err := io.ReadAll(stdin)
		return string(b), "<stdin>", err
	}
	if !fromFile {
		return arg, "", nil
	}
	b, err := os.ReadFile(arg)
	return string(b), arg, err
}

func cmdQuery(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runSource("query", args, stdin, stdout, stderr, false)
}

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runSource("run", args, stdin, stdout, stderr, true)
}

func runSource(cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer, fromFile bool) int {
	o, rest, code, ok := parseFlags(cmd, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		what := "QUERY"
		if fromFile {
			what = "FILE.vql"
		}
		fmt.Fprintf(stderr, "vqlq %s: expected one %s argument (or - for stdin)\n", cmd, what)
		return exitUsage
	}
	text, name, err := readSource(rest[0], stdin, fromFile)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq %s: %v\n", cmd, err)
		return exitUsage
	}
	w, ok := newWriter(o, stdout, stderr)
	if !ok {
		return exitUsage
	}
	return execute(text, name, &o.store, w, stderr)
}

// runBare is `vqlq` without a command: the interactive prompt on a
// terminal, otherwise the statements piped on stdin, run as `vqlq run -`
// would (no prompts, no history, the same exit status).
func runBare(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return cmdRun(append(args, "-"), stdin, stdout, stderr)
	}
	o, rest, code, ok := parseFlags("vqlq", args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "vqlq: unexpected argument %q\n\n%s", rest[0], usage)
		return exitUsage
	}
	return repl.RunTerminal(repl.Config{Out: stdout, Err: stderr, Flags: &o.store, Format: o.format})
}

// execute parses and checks the whole text first (a parse error, an
// unknown plugin, function or argument runs nothing), then runs it
// statement by statement, streaming rows to w and log messages to stderr.
// Ctrl-C cancels the running query.
func execute(text, name string, flags *runner.StoreFlags, w output.Writer, stderr io.Writer) int {
	prog, err := parser.Parse(text, name)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ended := make(chan struct{})
	defer close(ended)
	go exitIfStuck(ctx, ended, stderr)

	logs := &runner.LogPrinter{W: stderr}
	b := &runner.Backend{Flags: flags, ReadFirst: true}
	defer b.Close()
	target := b.Target(logs.Print)
	defer target.Close()
	if err := target.Check(prog); err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	for _, stmt := range prog.Statements {
		if _, err := target.Statement(ctx, stmt, w); err != nil {
			fmt.Fprintf(stderr, "vqlq: %v\n", err)
			return exitRuntime
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "vqlq: interrupted")
			return exitInterrupted
		}
	}
	if logs.Failed() {
		return exitRuntime
	}
	return exitOK
}

// stopGrace is how long an interrupted program may take to end its
// statement. Queries end at once; what can hold one past it is an output
// nobody reads (`vqlq query … | stuck-reader`): the write blocks, and no
// context can end a blocked write.
const stopGrace = 3 * time.Second

// exitIfStuck exits the process when, stopGrace after a signal, the
// program has not ended: a signal is never ignored. The store is left as
// kill -9 would leave it, which it survives (acknowledged events are
// durable; an unacknowledged position is delivered again).
func exitIfStuck(ctx context.Context, ended <-chan struct{}, stderr io.Writer) {
	select {
	case <-ended:
		return
	case <-ctx.Done():
	}
	select {
	case <-ended:
	case <-time.After(stopGrace):
		// stderr may be as stuck as stdout: say it without waiting on it.
		go fmt.Fprintf(stderr, "vqlq: interrupted, but the statement did not end within %v (is its output being read?): exiting now\n", stopGrace)
		time.Sleep(100 * time.Millisecond)
		os.Exit(exitInterrupted)
	}
}
