package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// maxJournalEntry is the longest journal entry (one line of journalctl's
// JSON) that is decoded; a longer one is skipped with a warning, so that
// one huge entry cannot grow the memory without bound.
const maxJournalEntry = 16 << 20

// WatchJournald follows the systemd journal and yields each new entry.
//
// The journal's files are a binary format with several compressions
// (xz, lz4, zstd) that journald writes while they are read; rather than
// a reader of its own or a cgo binding to libsystemd, vqlq runs the
// machine's own reader, `journalctl --follow --lines=0 --output=json`,
// one process for the call, in a process group of its own that goes
// when the query stops. That is why the call needs EXECVE as well as
// Velociraptor's FILESYSTEM_READ, and why it needs journalctl on the
// PATH. Without filename it follows the machine's journal across
// rotations, as journalctl does; with filename, those journal files.
//
// Rows take Velociraptor's shape: System holds Seq, Timestamp and the
// trusted fields journald adds (those starting with "_"), EventData the
// fields the program logged (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, …);
// raw=TRUE yields journalctl's object as it is instead.
var WatchJournald = vql.PluginFunc{
	Meta: vql.Info{Name: "watch_journald",
		Doc: "Follows the systemd journal (by running journalctl --follow: needs EXECVE and journalctl) and yields each new entry: System, EventData.",
		Args: []vql.ArgSpec{
			{Name: "filename", Type: vql.TypeAny, Doc: "Journal files to follow (paths or pathspecs; default: the machine's journal)."},
			{Name: "accessor", Type: vql.TypeString, Doc: "Only the host's files are followed (\"\", \"auto\" or \"file\")."},
			{Name: "raw", Type: vql.TypeBool, Doc: "Yield each entry as journalctl gives it (all fields at the top) instead of System and EventData."},
		},
		Permissions: perms(vql.PermFilesystemRead, vql.PermExecve)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			acc, raw := args.String("accessor", ""), args.Bool("raw", false)
			names, ok := hostPaths(scope, "watch_journald", "filename", args.Value("filename"))
			if args.Failed() || !ok || !hostAccessor(scope, "watch_journald", acc) {
				return
			}
			followJournal(ctx, scope, journalArgv(names), raw, yield)
		}
	},
}

// journalArgv is the journalctl command that follows files (none: the
// machine's journal) from their end, one JSON object a line.
func journalArgv(files []string) []string {
	argv := []string{"journalctl", "--follow", "--lines=0", "--output=json", "--quiet", "--no-pager"}
	for _, f := range files {
		argv = append(argv, "--file="+f)
	}
	return argv
}

// followJournal runs argv and yields a row per line it prints until the
// query stops or journalctl ends (its complaints are the query's
// warnings).
func followJournal(ctx context.Context, scope *vql.Scope, argv []string, raw bool, yield func(vql.Row) bool) {
	if _, err := exec.LookPath(argv[0]); err != nil {
		scope.Errorf("watch_journald: %s is not installed: the journal is read through it (%v)", argv[0], err)
		return
	}
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(sub, argv[0], argv[1:]...)
	cmd.WaitDelay = waitDelay
	ownGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		scope.Errorf("watch_journald: %v", err)
		return
	}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	scope.Log(vql.LevelInfo, "watch_journald: running %q", argv)
	if err := cmd.Start(); err != nil {
		scope.Errorf("watch_journald: %v", err)
		return
	}
	stopped := readJournal(sub, scope, stdout, raw, yield)
	cancel()
	waitErr := cmd.Wait()
	if stopped || ctx.Err() != nil {
		return
	}
	msg := strings.TrimSpace(stderr.String())
	if waitErr != nil || msg != "" {
		scope.Errorf("watch_journald: journalctl ended: %v %s", waitErr, msg)
	}
}

// readJournal yields the entries journalctl prints. It reports whether
// the consumer stopped reading.
func readJournal(ctx context.Context, scope *vql.Scope, r io.Reader, raw bool, yield func(vql.Row) bool) bool {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	tooLong := false
	for ctx.Err() == nil {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
		}
		if len(line) > maxJournalEntry {
			line, tooLong = line[:0], true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			scope.Log(vql.LevelWarn, "watch_journald: an entry longer than %d bytes was skipped", maxJournalEntry)
		} else if len(bytes.TrimSpace(line)) > 0 {
			row, ok := journalRow(line, raw)
			if !ok {
				scope.Log(vql.LevelWarn, "watch_journald: journalctl printed a line that is not a JSON object: %.200q", line)
			} else if !yield(row) {
				return true
			}
		}
		line, tooLong = line[:0], false
		if err != nil {
			return false
		}
	}
	return false
}

// journalRow turns one line of journalctl's JSON into a row: raw, or in
// Velociraptor's System/EventData shape.
func journalRow(line []byte, raw bool) (*ordereddict.Dict, bool) {
	v, err := value.DecodeJSON(line)
	entry, ok := v.(*ordereddict.Dict)
	if err != nil || !ok {
		return nil, false
	}
	for _, item := range entry.Items() {
		entry.Update(item.Key, journalValue(item.Value))
	}
	if raw {
		return entry, true
	}
	system := ordereddict.NewDict()
	if s, ok := entry.Get("__SEQNUM"); ok {
		system.Set("Seq", intOr(s))
	}
	if ts, ok := entry.Get("__REALTIME_TIMESTAMP"); ok {
		if usec, err := strconv.ParseInt(toString(ts), 10, 64); err == nil {
			system.Set("Timestamp", time.UnixMicro(usec).UTC())
		}
	}
	data := ordereddict.NewDict()
	for _, item := range entry.Items() {
		switch {
		case item.Key == "__SEQNUM" || item.Key == "__REALTIME_TIMESTAMP":
		case strings.HasPrefix(item.Key, "_"):
			system.Set(item.Key, item.Value)
		case item.Key == "PRIORITY" || item.Key == "SYSLOG_FACILITY":
			data.Set(item.Key, intOr(item.Value))
		default:
			data.Set(item.Key, item.Value)
		}
	}
	return ordereddict.NewDict().Set("System", system).Set("EventData", data), true
}

// journalValue is a field's value as a string where journalctl gave it
// as a list of bytes (a value that is not valid UTF-8 or holds control
// characters); a field logged several times stays a list.
func journalValue(v any) any {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return v
	}
	b := make([]byte, len(list))
	for i, e := range list {
		n, ok := e.(int64)
		if !ok || n < 0 || n > 255 {
			return v
		}
		b[i] = byte(n)
	}
	return string(b)
}

// intOr is v as an integer when it is one written as a string.
func intOr(v any) any {
	if n, err := strconv.ParseInt(toString(v), 10, 64); err == nil {
		return n
	}
	return v
}

func toString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return ""
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest, so a program that complains without end holds bounded memory.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
