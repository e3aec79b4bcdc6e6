package vql

import (
	"fmt"
	"strings"
)

// Describe renders a declaration for people (vqlq help NAME, help NAME at
// the prompt): kind, signature, doc, and one line per argument.
func (info Info) Describe(kind string) string {
	var b strings.Builder
	names := make([]string, len(info.Args))
	for i, a := range info.Args {
		names[i] = a.Name
	}
	fmt.Fprintf(&b, "%s %s(%s)\n  %s\n", kind, info.Name, strings.Join(names, ", "), info.Doc)
	for _, a := range info.Args {
		req := ""
		if a.Required {
			req = ", required"
		}
		fmt.Fprintf(&b, "    %-10s (%s%s) %s\n", a.Name, a.Type, req, a.Doc)
	}
	if info.FreeArgs {
		b.WriteString("    …          any other name=value arguments are accepted\n")
	}
	return b.String()
}
