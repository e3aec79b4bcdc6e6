package host

import (
	"bytes"
	"context"
	"iter"
	"os"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// followPoll is how often a followed file is looked at for new lines,
// a rotation or a truncation.
const followPoll = 100 * time.Millisecond

// maxLine is the longest line held: a longer one is yielded in pieces
// of this size, so a file without newlines cannot grow the memory.
const maxLine = 1 << 20

// WatchSyslog follows log files as `tail -F` does and yields each new
// line as a row {Line}: it starts at the end of each file, follows a
// rotation (the file renamed and a new one made: what was left in the old
// file is read first, the new one from its start) and a truncation (read
// again from the start), and waits for a file that does not exist yet.
// It reads what was added, never the whole file, and ends only when the
// query is stopped.
var WatchSyslog = vql.PluginFunc{
	Meta: vql.Info{Name: "watch_syslog", Doc: "Follows log files like tail -F (across rotation and truncation) and yields each new line: Line.",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeAny, Required: true, Doc: "The file or files to follow (paths or pathspecs)."},
			{Name: "accessor", Type: vql.TypeString, Doc: "Only the host's files are followed (\"\", \"auto\" or \"file\")."},
		},
		Permissions: perms(vql.PermFilesystemRead)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			acc := args.String("accessor", "")
			names, ok := hostPaths(scope, "watch_syslog", "filename", args.Value("filename"))
			if args.Failed() || !ok || !hostAccessor(scope, "watch_syslog", acc) {
				return
			}
			if len(names) == 0 {
				scope.Errorf("watch_syslog: filename is empty: give the file to follow")
				return
			}
			followers := make([]*follower, len(names))
			for i, n := range names {
				followers[i] = newFollower(n)
				defer followers[i].close()
			}
			emit := func(line string) bool { return yield(ordereddict.NewDict().Set("Line", line)) }
			tick := time.NewTicker(followPoll)
			defer tick.Stop()
			for {
				for _, f := range followers {
					if !f.poll(ctx, emit) {
						return
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}
	},
}

// hostAccessor refuses an accessor other than the host's file system.
func hostAccessor(scope *vql.Scope, call, acc string) bool {
	switch acc {
	case "", "auto", "file":
		return true
	}
	scope.Errorf("%s: accessor %q: only the host's files can be read (accessor \"file\")", call, acc)
	return false
}

// hostPaths reads call's argument arg: one path or pathspec, or a list
// of them, as the host names them.
func hostPaths(scope *vql.Scope, call, arg string, v any) ([]string, bool) {
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	var out []string
	for _, item := range list {
		if item == nil {
			continue
		}
		p, ok := accessors.PathValue(scope, call, arg, item)
		if !ok {
			return nil, false
		}
		out = append(out, accessors.HostPath(p))
	}
	return out, true
}

// follower follows one path.
type follower struct {
	path    string
	f       *os.File
	off     int64
	partial []byte
	buf     []byte
}

// newFollower starts at the end of the file the path names now. The size
// is taken before the file is opened, so a line written once the file is
// open is never skipped.
func newFollower(path string) *follower {
	w := &follower{path: path, buf: make([]byte, 64<<10)}
	st, err := os.Stat(path)
	if err != nil {
		return w
	}
	if f, err := os.Open(path); err == nil {
		if cur, err := f.Stat(); err == nil && os.SameFile(st, cur) {
			w.off = st.Size()
		}
		w.f = f
	}
	return w
}

// poll reads what was added, then looks whether the path now names
// another file (rotated) or a shorter one (truncated). It reports false
// when the consumer wants no more lines.
func (w *follower) poll(ctx context.Context, emit func(string) bool) bool {
	if w.f == nil {
		f, err := os.Open(w.path)
		if err != nil {
			return true
		}
		w.f, w.off = f, 0
	}
	if !w.drain(ctx, emit) {
		return false
	}
	st, err := os.Stat(w.path)
	if err != nil {
		// Renamed away and not made again yet: keep the old file.
		return true
	}
	cur, err := w.f.Stat()
	switch {
	case err != nil || !os.SameFile(st, cur):
		if len(w.partial) > 0 && !emit(w.takePartial()) {
			return false
		}
		w.close()
		return w.poll(ctx, emit)
	case st.Size() < w.off:
		w.off, w.partial = 0, w.partial[:0]
		return w.drain(ctx, emit)
	}
	return true
}

// drain yields the complete lines added since the last read.
func (w *follower) drain(ctx context.Context, emit func(string) bool) bool {
	for ctx.Err() == nil {
		n, err := w.f.ReadAt(w.buf, w.off)
		w.off += int64(n)
		data := w.buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				w.partial = append(w.partial, data...)
				break
			}
			w.partial = append(w.partial, data[:i]...)
			data = data[i+1:]
			if !emit(w.takePartial()) {
				return false
			}
		}
		for len(w.partial) >= maxLine {
			line := string(w.partial[:maxLine])
			w.partial = append(w.partial[:0], w.partial[maxLine:]...)
			if !emit(line) {
				return false
			}
		}
		if n == 0 || err != nil {
			// The end for now (io.EOF), or a read to try at the next poll.
			return true
		}
	}
	return true
}

// takePartial is the held line, without a trailing carriage return.
func (w *follower) takePartial() string {
	line := string(bytes.TrimSuffix(w.partial, []byte("\r")))
	w.partial = w.partial[:0]
	return line
}

func (w *follower) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
