// Command vqlq runs VQL: `vqlq query`, `vqlq run`, `vqlq help`, and (with
// no arguments) the interactive prompt.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// Exit statuses.
const (
	exitOK          = 0
	exitRuntime     = 1 // the program ran but logged errors
	exitUsage       = 2 // bad flags, a parse error or a check error: nothing ran
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `vqlq — a small, fast VQL engine

Usage:
  vqlq [flags]                  interactive prompt (runs piped statements when stdin is not a terminal)
  vqlq query [flags] QUERY|-    run one VQL text (- reads it from stdin)
  vqlq run [flags] FILE.vql|-   run a VQL script
  vqlq serve [--listen ADDR] [--tls-cert FILE --tls-key FILE]
                                the event server: HTTP API (HTTPS with the TLS flags),
                                server monitoring, debug page
  vqlq client --server URL [--enroll-token T] [--ca-cert FILE]
                                run on an endpoint: the server's CLIENT_EVENT artifacts,
                                their rows buffered on disk until the server stores them
  vqlq token create --name N --role reader|publisher|admin|metrics|enroll [--queue Q …] [--expires 720h]
                                make an API token (printed once; N unique in the org)
  vqlq token list [--format F]  the org's tokens: name, role, queues, created, last used, expiry
  vqlq token revoke N           revoke a token: refused at once, its open streams end
  vqlq help [NAME]              list plugins and functions, or describe one
  vqlq config show              the configuration repack() embedded in this binary
  vqlq --version                version, commit and Go release of this build

Flags (before or after the command):
  --format json|jsonl|csv|table   output format (default: table on a terminal, json otherwise)
  --data-dir DIR                  data folder (default $VQLQ_DATA_DIR, else ~/.local/share/vqlq)
  --definitions DIR               extra artifact YAML files
  --org ID                        org to work in (default root)
  --sync flush|full|none          when send_event returns (default flush)
  --retention DURATION            how long stored events are kept (default 720h)
  --min-free SIZE                 refuse events below this much free disk space (default 272MiB; 0: off)
  --max-query-memory SIZE         memory one statement may hold for GROUP BY, ORDER BY, LET <=
                                  (default 512MiB; 0 for no limit): past it the statement stops
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args = commandFirst(args)
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help") {
		return runBare(args, stdin, stdout, stderr)
	}
	switch args[0] {
	case "query":
		return cmdQuery(args[1:], stdin, stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdin, stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "token":
		return cmdToken(args[1:], stdout, stderr)
	case "client":
		return cmdClient(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		return cmdHelp(args[1:], stdout, stderr)
	case "config":
		return cmdConfig(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "vqlq: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// commands are the subcommands run dispatches.
var commands = []string{"query", "run", "serve", "token", "client", "help", "version", "config"}

// commandFirst moves flags written before the subcommand after it
// (`vqlq --format table query …` is `vqlq query --format table …`), as
// git and go accept flags on either side. Every flag of ours takes a
// value except --help and --version, so the subcommand is the first word
// that is neither a flag nor a flag's value.
func commandFirst(args []string) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-":
			return args
		case strings.HasPrefix(a, "-"):
			if !strings.Contains(a, "=") && !noValue[strings.TrimLeft(a, "-")] {
				i++ // its value
			}
		case i == 0:
			return args
		default:
			if !slices.Contains(commands, a) {
				return args
			}
			return append(append([]string{a}, args[:i]...), args[i+1:]...)
		}
	}
	return args
}

// noValue are the flags that take no value.
var noValue = map[string]bool{"h": true, "help": true, "version": true}

// version is what --version prints: the module's version, the commit it
// was built from (and whether the tree had changes), and the Go release.
func version() string {
	v, commit, when, dirty := "(devel)", "", "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if commit == "" {
		commit = "unknown (a build without VCS stamping: go build -buildvcs=true in a git checkout)"
	} else if len(commit) > 12 {
		commit = commit[:12]
	}
	if dirty {
		commit += " (modified)"
	}
	if when != "" {
		commit += " " + when
	}
	return fmt.Sprintf("vqlq %s commit %s %s %s/%s", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
