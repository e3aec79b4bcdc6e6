package main

import (
	"fmt"
	"io"

	"github.com/vqlq/vqlq/repack"
)

// cmdConfig shows the configuration repack() embedded in this binary:
// what a deployed binary will run with, checked before it is shipped.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "show" {
		fmt.Fprintf(stderr, "vqlq config: usage: vqlq config show\n")
		return exitUsage
	}
	config, ok := repack.Embedded()
	if !ok {
		fmt.Fprintln(stderr, "vqlq config: this binary carries no configuration (repack() embeds one in a copy)")
		return exitRuntime
	}
	stdout.Write(config)
	return exitOK
}
