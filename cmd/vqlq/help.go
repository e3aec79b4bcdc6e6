package main

import (
	"fmt"
	"io"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
)

// cmdHelp lists plugins, functions and accessors with their arguments,
// from the same declarations the engine checks calls against (and help()
// returns as rows).
func cmdHelp(args []string, stdout, stderr io.Writer) int {
	// The full engine, queue and monitoring functions included; nothing is
	// opened to list them.
	e := (&runner.Backend{Flags: &runner.StoreFlags{DataDir: runner.DefaultDataDir(), Org: queues.DefaultOrg}}).Engine()
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nPlugins (SELECT … FROM plugin(…)):")
		for _, p := range e.Plugins() {
			fmt.Fprintf(stdout, "  %-14s %s\n", p.Name, p.Doc)
		}
		fmt.Fprintln(stdout, "\nFunctions:")
		for _, f := range e.Functions() {
			fmt.Fprintf(stdout, "  %-14s %s\n", f.Name, f.Doc)
		}
		fmt.Fprintln(stdout, "\nAccessors (accessor=\"…\" of the functions that read data):")
		for _, a := range accessors.All() {
			fmt.Fprintf(stdout, "  %-14s %s\n", a.Name, a.Doc)
		}
		fmt.Fprintln(stdout, "\nvqlq help NAME describes the arguments of one; in VQL, SELECT * FROM help() lists the same.")
		return exitOK
	}
	text, found := e.Help(args[0])
	if !found {
		fmt.Fprintf(stderr, "vqlq help: %s\n", text)
		return exitUsage
	}
	fmt.Fprint(stdout, text)
	return exitOK
}
