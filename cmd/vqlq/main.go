// Command vqlq runs VQL: `vqlq query`, `vqlq run`, `vqlq help`, and (with
// no arguments) the interactive prompt.
package main

import (
	"fmt"
	"io"
	"os"
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
  vqlq token create --name N --role reader|publisher|admin|metrics [--queue Q …] [--expires 720h]
                                make an API token (printed once; N unique in the org)
  vqlq token list [--format F]  the org's tokens: name, role, queues, created, last used, expiry
  vqlq token revoke N           revoke a token: refused at once, its open streams end
  vqlq help [NAME]              list plugins and functions, or describe one

Flags:
  --format json|jsonl|csv|table   output format (default: table on a terminal, json otherwise)
  --data-dir DIR                  data folder (default $VQLQ_DATA_DIR, else ~/.local/share/vqlq)
  --definitions DIR               extra artifact YAML files
  --org ID                        org to work in (default root)
  --sync flush|full|none          when send_event returns (default flush)
  --retention DURATION            how long stored events are kept (default 720h)
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	case "help", "-h", "--help":
		return cmdHelp(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "vqlq: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
