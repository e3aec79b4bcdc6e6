// Package runner is what the vqlq command and its REPL share: the flags
// that locate the data folder, the backend that opens it on first use and
// builds the engine, and the loop that streams a statement's rows to an
// output writer while its log goes to stderr.
package runner

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/bytesize"
	"github.com/vqlq/vqlq/internal/private"
	"github.com/vqlq/vqlq/monitoring"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// StoreFlags are the flags every command takes to find its data.
type StoreFlags struct {
	DataDir     string
	Definitions string
	Org         string
	Sync        string
	Retention   time.Duration
	// MinFree is the free-space watermark below which events are refused
	// (queues.ErrDiskFull); 0 turns it off.
	MinFree uint64
	// QueryMemory is the memory budget of each statement run here (or,
	// for serve, of each statement the server runs).
	QueryMemory QueryMemory
	// Deny are permissions the command's sessions never hold (--deny):
	// the local command line otherwise holds every one.
	Deny Denied
}

// Register adds the flags to a flag set.
func (f *StoreFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.DataDir, "data-dir", DefaultDataDir(), "data folder (the badger store); $VQLQ_DATA_DIR overrides the default")
	fs.StringVar(&f.Definitions, "definitions", "", "folder of extra artifact YAML files")
	fs.StringVar(&f.Org, "org", queues.DefaultOrg, "org to work in")
	fs.StringVar(&f.Sync, "sync", "flush", "when an event is acknowledged: flush (written, survives kill -9), full (fsynced), none")
	fs.DurationVar(&f.Retention, "retention", 30*24*time.Hour, "how long disk-backed events are kept")
	f.MinFree = queues.DefaultMinFree
	fs.Var((*sizeValue)(&f.MinFree), "min-free", "refuse events while the data folder's disk has less free space than this (e.g. 272MiB, 1GB; 0 turns it off): room badger needs for its flushes and compactions")
	fs.Var(&f.QueryMemory, "max-query-memory", "memory one statement may hold for GROUP BY, ORDER BY, LET <= and queries read as values (512MiB, 2GB, bytes; 0 for no limit): past it the statement stops with an error")
}

// RegisterDeny adds --deny, for the commands that open sessions (query,
// run, the REPL, serve).
func (f *StoreFlags) RegisterDeny(fs *flag.FlagSet) {
	fs.Var(&f.Deny, "deny", "permissions this command's queries never hold, comma-separated (EXECVE,NETWORK,…; repeatable): the local command line otherwise holds every one")
}

// Denied is the value of --deny: permission names, checked as they are
// given.
type Denied []vql.Permission

func (d *Denied) String() string { return strings.Join(d.Names(), ",") }

// Set adds the permissions of one --deny.
func (d *Denied) Set(s string) error {
	perms, err := vql.ParsePermissions([]string{s})
	if err != nil {
		return err
	}
	for _, p := range perms {
		if !slices.Contains(*d, p) {
			*d = append(*d, p)
		}
	}
	return nil
}

// Names lists the denied permissions' names.
func (d Denied) Names() []string {
	out := make([]string, len(d))
	for i, p := range d {
		out[i] = string(p)
	}
	return out
}

// sizeValue is a flag holding a size in bytes, written with units.
type sizeValue uint64

func (v *sizeValue) String() string { return bytesize.Format(int64(*v)) }

func (v *sizeValue) Set(s string) error {
	n, err := bytesize.Parse(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

// DefaultDataDir is $VQLQ_DATA_DIR, else vqlq in the user's data folder
// ($XDG_DATA_HOME, or ~/.local/share).
func DefaultDataDir() string {
	if d := os.Getenv("VQLQ_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "vqlq")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "vqlq")
	}
	return "vqlq-data"
}

// Check validates the flags before anything runs: a bad org or sync mode,
// or a definitions folder that cannot be read, is a usage error. It
// returns what loading the definitions folder gives (nil without one):
// the files left out, with their problems, while the rest of the folder
// is usable. The command shows it once, with WarnNotLoaded.
func (f *StoreFlags) Check() (*artifacts.LoadReport, error) {
	if err := queues.CheckOrg(f.Org); err != nil {
		return nil, err
	}
	if _, err := queues.ParseSyncMode(f.Sync); err != nil {
		return nil, err
	}
	if f.Definitions == "" {
		return nil, nil
	}
	repo := artifacts.NewRepository(nil)
	// The engine is built, not the data folder opened.
	repo.SetChecker(plugins.ArtifactChecker((&Backend{Flags: f}).Engine()))
	return repo.LoadDir(f.Definitions)
}

// WarnNotLoaded writes one WARN line per file of the definitions folder
// that is not loaded, naming the file, line (and column) of each problem,
// then an INFO line with the counts. A folder that loads whole (or none)
// writes nothing: every command prints this, and silence says all is well.
func WarnNotLoaded(w io.Writer, report *artifacts.LoadReport) {
	if report == nil || len(report.Skipped) == 0 {
		return
	}
	for _, n := range report.Skipped {
		fmt.Fprintln(w, vql.Message{Level: vql.LevelWarn, Text: n.Error()}.String())
	}
	fmt.Fprintln(w, vql.Message{Level: vql.LevelInfo, Text: report.Summary()}.String())
}

// Backend opens the data folder on first use and closes it at the end.
type Backend struct {
	Flags *StoreFlags
	// ReadFirst opens the store read-only until the first write, so that
	// commands that only read (vqlq query, run, the REPL) leave the
	// folder as it was. `vqlq serve` owns the folder and opens it
	// read-write.
	ReadFirst bool
	// Server is set by vqlq serve, which must own the folder; other
	// commands refused a busy folder are pointed at vqlq serve.
	Server bool
	disk   *queues.BadgerStore

	engineOnce sync.Once
	engine     *vql.Engine

	monOnce sync.Once
	mon     *monitoring.Service
	mu      sync.Mutex
	m       *queues.Manager
}

// Manager returns the queue manager, opening the data folder the first
// time. A failed open is tried again at the next call: a folder busy
// because a server owned it may be free later (see Reattaching).
func (b *Backend) Manager() (*queues.Manager, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m != nil {
		return b.m, nil
	}
	m, err := b.open()
	if err != nil {
		return nil, err
	}
	b.m = m
	return m, nil
}

// open opens the data folder and its queue manager.
func (b *Backend) open() (*queues.Manager, error) {
	mode, err := queues.ParseSyncMode(b.Flags.Sync)
	if err != nil {
		return nil, err
	}
	// The folder is private: umask 0o077 from here on, the folder
	// created 0700, a warning if an existing one is open to others.
	if err := private.Prepare(b.Flags.DataDir, os.Stderr); err != nil {
		return nil, err
	}
	hint := "To work on one folder from several processes, run vqlq serve on it: the others then attach to the server"
	if b.Server {
		hint = "Stop that process first: the server must own the folder; while it runs, vqlq, vqlq query and vqlq run on the folder attach to it instead of opening it"
	}
	disk, err := queues.OpenBadgerWith(b.Flags.DataDir, queues.BadgerOptions{Sync: mode, ReadFirst: b.ReadFirst, MinFree: b.Flags.MinFree, BusyHint: hint})
	if err != nil {
		return nil, err
	}
	m, err := queues.New(queues.Options{Disk: disk, Definitions: b.Flags.Definitions, Retention: b.Flags.Retention,
		Check: plugins.ArtifactChecker(b.Engine())})
	if err != nil {
		disk.Close()
		return nil, err
	}
	b.disk = disk
	return m, nil
}

// Close flushes and closes the store if it was opened.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m != nil {
		if err := b.m.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "vqlq: closing the data folder: %v\n", err)
		}
	}
}

// Target returns where statements run: on the server that owns the data
// folder when one is running (attached through its socket), otherwise in a
// session of this process. Log messages go to onLog either way.
func (b *Backend) Target(onLog func(vql.Message)) Target {
	if r, ok := Attach(b.Flags.DataDir, b.Flags.Org); ok {
		r.OnLog = onLog
		r.Engine = b.Engine()
		r.Deny = b.Flags.Deny.Names()
		if b.Flags.Definitions != "" && onLog != nil {
			onLog(vql.Message{Time: time.Now(), Level: vql.LevelInfo,
				Text: "attached to the vqlq server that owns " + b.Flags.DataDir + ": it uses its own --definitions, not " + b.Flags.Definitions})
		}
		if b.Flags.QueryMemory.IsSet() && onLog != nil {
			onLog(vql.Message{Time: time.Now(), Level: vql.LevelInfo,
				Text: "attached to the vqlq server that owns " + b.Flags.DataDir + ": its --max-query-memory applies, not this one"})
		}
		return &Reattaching{b: b, onLog: onLog, org: b.Flags.Org, cur: r}
	}
	return b.local(onLog, b.Flags.Org)
}

// local is a session of this process on the data folder.
func (b *Backend) local(onLog func(vql.Message), org string) *Local {
	return &Local{Session: b.Engine().NewSession(vql.SessionOptions{OnLog: onLog, Identity: b.Owner(org),
		MaxQueryMemory: b.Flags.QueryMemory.Budget(), UploadDir: filepath.Join(b.Flags.DataDir, UploadsDir)})}
}

// UploadsDir is the folder of the data folder upload() stores files in.
const UploadsDir = "uploads"

// Owner is the identity of the data folder's owner working in an org: the
// local command line, the socket, server monitoring. It holds every
// permission but those of --deny, and sees every org; its events come
// from "server".
func (b *Backend) Owner(org string) vql.Identity {
	return vql.Identity{Org: org, Principal: queues.ServerSender.Principal, Role: "owner", All: true, AllOrgs: true,
		Denied: b.Flags.Deny}
}

// Monitoring returns the server monitoring service of the data folder
// (not started: `vqlq serve` starts it; elsewhere its functions edit the
// stored table, which the server runs).
func (b *Backend) Monitoring() (*monitoring.Service, error) {
	m, err := b.Manager()
	if err != nil {
		return nil, err
	}
	b.monOnce.Do(func() {
		b.mon = monitoring.NewWithOptions(m, b.disk, b.Engine, monitoring.Options{Deny: b.Flags.Deny, UploadDir: filepath.Join(b.Flags.DataDir, UploadsDir)})
	})
	return b.mon, nil
}

// Store is the opened data folder's store (nil before Manager succeeded);
// it also keeps key-value data such as tokens.
func (b *Backend) Store() queues.Store {
	if b.disk == nil {
		return nil
	}
	return b.disk
}

// Engine returns the engine every session of this backend uses: every
// built-in, and the queue and monitoring plugins and functions bound to
// this backend. Which org a query works in is its session's identity.
func (b *Backend) Engine() *vql.Engine {
	b.engineOnce.Do(func() {
		e := vqlq.NewQueueEngine(b.Manager)
		for _, f := range monitoring.Functions(b.Monitoring) {
			e.AddFunction(f)
		}
		for _, p := range monitoring.Plugins(b.Monitoring) {
			e.AddPlugin(p)
		}
		b.engine = e
	})
	return b.engine
}
