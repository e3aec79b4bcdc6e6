package vql

import (
	"fmt"
	"strings"

	"github.com/vqlq/vqlq/internal/suggest"
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
	if len(info.Permissions) > 0 {
		perms := make([]string, len(info.Permissions))
		for i, p := range info.Permissions {
			perms[i] = string(p)
		}
		fmt.Fprintf(&b, "  needs %s\n", strings.Join(perms, ", "))
	}
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

// Help describes every plugin and function called name (case does not
// matter), as vqlq help NAME and help NAME at the prompt show it. When
// there is none, found is false and text says so, offering the nearest
// name.
func (e *Engine) Help(name string) (text string, found bool) {
	var b strings.Builder
	for _, kind := range []struct {
		label string
		infos []Info
	}{{"plugin", e.Plugins()}, {"function", e.Functions()}} {
		for _, info := range kind.infos {
			if strings.EqualFold(info.Name, name) {
				b.WriteString(info.Describe(kind.label))
			}
		}
	}
	if b.Len() > 0 {
		return b.String(), true
	}
	names := append(e.pluginNames(), e.functionNames()...)
	return fmt.Sprintf("no plugin or function named %q%s", name, suggest.DidYouMean(name, names)), false
}
