package main

import (
	"fmt"
	"io"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
)

// cmdHelp lists plugins and functions with their arguments, from the same
// declarations the engine checks calls against.
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
		fmt.Fprintln(stdout, "\nvqlq help NAME describes the arguments of one.")
		return exitOK
	}
	found := false
	for _, kind := range []struct {
		label string
		infos []vql.Info
	}{{"plugin", e.Plugins()}, {"function", e.Functions()}} {
		for _, info := range kind.infos {
			if info.Name == args[0] {
				found = true
				fmt.Fprint(stdout, info.Describe(kind.label))
			}
		}
	}
	if !found {
		fmt.Fprintf(stderr, "vqlq help: no plugin or function named %q\n", args[0])
		return exitUsage
	}
	return exitOK
}
