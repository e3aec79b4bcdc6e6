package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os/exec"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// defaultChunk is Velociraptor's default length: the most bytes of
// output one row carries.
const defaultChunk = 10240

// waitDelay bounds how long a program's pipes are waited for once it has
// exited or been killed: a daemon it started may hold them open forever.
const waitDelay = 2 * time.Second

// Execve runs a program from an argv list — never through a shell — and
// yields its output as Velociraptor's execve() does: rows of Stdout or
// Stderr up to length bytes, then a last row with what is left, the
// ReturnCode and Complete. With sep, each piece of output between
// separators is its own row instead. A chunk that must be cut is cut
// after its last newline when it has one, so rows hold whole lines.
//
// The program runs in a process group of its own; a timeout, a cancelled
// query or a consumer that stops reading (LIMIT) kills the whole group.
// Output is handed over as it is read, and the program waits while the
// query does not read, so memory stays bounded whatever it prints.
var Execve = vql.PluginFunc{
	Meta: vql.Info{Name: "execve", Doc: "Runs argv (a list: program and arguments, no shell) and yields its output: Stdout, Stderr, ReturnCode, Complete.",
		Args: []vql.ArgSpec{
			{Name: "argv", Type: vql.TypeList, Required: true, Doc: "The program and its arguments."},
			{Name: "sep", Type: vql.TypeString, Doc: "Split the output into one row per separated piece (\"\\n\": a row per line)."},
			{Name: "length", Type: vql.TypeInt, Doc: "The most bytes of output in one row (default 10240)."},
			{Name: "env", Type: vql.TypeDict, Doc: "The program's environment (replacing this process's, as in Velociraptor)."},
			{Name: "cwd", Type: vql.TypeString, Doc: "The directory to run it in."},
			{Name: "timeout", Type: vql.TypeFloat, Doc: "Seconds after which the program (and its process group) is killed (default: none)."},
		},
		Permissions: perms(vql.PermExecve)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			req, ok := execRequest(scope, args)
			if ok {
				req.run(ctx, scope, yield)
			}
		}
	},
}

// execReq is one execve() call's arguments, checked.
type execReq struct {
	argv    []string
	sep     string
	length  int
	env     []string
	cwd     string
	timeout time.Duration
}

func execRequest(scope *vql.Scope, args *vql.Args) (execReq, bool) {
	r := execReq{argv: args.Strings("argv"), sep: args.String("sep", ""), length: int(args.Int("length", defaultChunk)),
		cwd: args.String("cwd", ""), timeout: time.Duration(args.Float("timeout", 0) * float64(time.Second))}
	env := args.Value("env")
	if args.Failed() {
		return r, false
	}
	if len(r.argv) == 0 {
		scope.Errorf("execve: argv is empty: give the program and its arguments as a list, e.g. argv=['ls', '-l']")
		return r, false
	}
	if r.length <= 0 {
		scope.Errorf("execve: length must be more than 0, not %d", r.length)
		return r, false
	}
	if env != nil {
		d, ok := env.(*ordereddict.Dict)
		if !ok {
			scope.Errorf("execve: Field env should be a dict not %T", env)
			return r, false
		}
		r.env = []string{}
		for _, item := range d.Items() {
			r.env = append(r.env, fmt.Sprintf("%s=%v", item.Key, item.Value))
		}
	}
	return r, true
}

// piece is one row's worth of one stream's output.
type piece struct {
	stderr bool
	text   string
}

func (r execReq) run(ctx context.Context, scope *vql.Scope, yield func(vql.Row) bool) {
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.timeout > 0 {
		var stop context.CancelFunc
		sub, stop = context.WithTimeout(sub, r.timeout)
		defer stop()
	}
	scope.Log(vql.LevelInfo, "execve: Running external command %q", r.argv)
	cmd := exec.CommandContext(sub, r.argv[0], r.argv[1:]...)
	cmd.Env, cmd.Dir, cmd.WaitDelay = r.env, r.cwd, waitDelay
	ownGroup(cmd)
	pieces := make(chan piece, 4)
	stdout := &framer{ctx: sub, out: pieces, length: r.length, sep: []byte(r.sep)}
	stderr := &framer{ctx: sub, out: pieces, length: r.length, sep: []byte(r.sep), stderr: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		scope.Errorf("execve: %v", err)
		yield(execRow("", err.Error(), 1, false))
		return
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	reading := true
	for reading {
		select {
		case p := <-pieces:
			if !yieldPiece(p, yield) {
				cancel()
				<-exited
				return
			}
		case <-exited:
			reading = false
		}
	}
	if ctx.Err() != nil {
		return
	}
	// Wait returned: the copying is over, only buffered pieces are left.
	for len(pieces) > 0 {
		if !yieldPiece(<-pieces, yield) {
			return
		}
	}
	code, complete := exitCode(waitErr)
	if errors.Is(sub.Err(), context.DeadlineExceeded) {
		scope.Errorf("execve: %s timed out after %v and was killed", r.argv[0], r.timeout)
		complete = false
	}
	out, errText := stdout.rest(), stderr.rest()
	if r.sep != "" {
		// A last piece with no separator after it is a row of its own.
		for _, p := range []piece{{text: out}, {stderr: true, text: errText}} {
			if p.text != "" && !yieldPiece(p, yield) {
				return
			}
		}
		out, errText = "", ""
	}
	yield(execRow(out, errText, code, complete))
}

func yieldPiece(p piece, yield func(vql.Row) bool) bool {
	if p.stderr {
		return yield(execRow("", p.text, 0, false))
	}
	return yield(execRow(p.text, "", 0, false))
}

func execRow(stdout, stderr string, code int64, complete bool) *ordereddict.Dict {
	return ordereddict.NewDict().Set("Stdout", stdout).Set("Stderr", stderr).
		Set("ReturnCode", code).Set("Complete", complete)
}

// exitCode is the program's exit status (-1 when a signal ended it) and
// whether it ran to its own end.
func exitCode(err error) (int64, bool) {
	if err == nil {
		return 0, true
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return int64(exit.ExitCode()), exit.ExitCode() >= 0
	}
	return -1, false
}

// framer cuts one stream of a program's output into pieces of at most
// length bytes and hands them to the query as they are cut. What is left
// at the end (without sep: the last, short piece) is kept for the last
// row. Write blocks while the query does not take pieces, which holds the
// program back once its pipe is full.
type framer struct {
	ctx     context.Context
	out     chan<- piece
	length  int
	sep     []byte
	stderr  bool
	mu      sync.Mutex
	pending []byte
}

func (f *framer) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, b...)
	for {
		cut, skip := f.next()
		if cut < 0 {
			return len(b), nil
		}
		text := string(f.pending[:cut])
		f.pending = append(f.pending[:0], f.pending[cut+skip:]...)
		if text == "" {
			continue
		}
		select {
		case f.out <- piece{stderr: f.stderr, text: text}:
		case <-f.ctx.Done():
			return 0, f.ctx.Err()
		}
	}
}

// next finds the next piece to cut from pending: its length and how many
// separator bytes follow it; cut < 0 when no piece is ready.
func (f *framer) next() (cut, skip int) {
	if len(f.sep) > 0 {
		if i := bytes.Index(f.pending, f.sep); i >= 0 && i <= f.length {
			return i, len(f.sep)
		}
	}
	if len(f.pending) <= f.length {
		return -1, 0
	}
	if i := bytes.LastIndexByte(f.pending[:f.length], '\n'); i >= 0 {
		return i + 1, 0
	}
	return f.length, 0
}

// rest is what is left once the program is done.
func (f *framer) rest() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.pending)
}
