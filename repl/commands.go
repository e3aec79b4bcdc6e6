package repl

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// command is one dot-command. aliases are the names sqlite3 and psql
// users type for the same thing.
type command struct {
	name, args, doc string
	run             func(s *Shell, ctx context.Context, arg string)
	aliases         []string
}

var commands []command

func init() {
	commands = []command{
		{".help", "[NAME]", "this list, or the arguments of a plugin or function (help NAME too)", (*Shell).cmdHelp, []string{"help", `\?`, `\h`}},
		{".plugins", "[NAME]", "plugins with their arguments", (*Shell).cmdPlugins, nil},
		{".functions", "[NAME]", "functions with their arguments", (*Shell).cmdFunctions, nil},
		{".artifacts", "[REGEX]", "artifacts of the current org", (*Shell).cmdArtifacts, nil},
		{".queues", "", "queues of the current org", (*Shell).cmdQueues, nil},
		{".org", "[ID]", "show or switch the org (LETs are kept)", (*Shell).cmdOrg, nil},
		{".load", "FILE.vql", "run a script in this session", (*Shell).cmdLoad, []string{".read", `\i`}},
		{".format", "json|jsonl|csv|table", "output mode", (*Shell).cmdFormat, []string{".mode"}},
		{".headers", "on|off", "column names above tables and CSV", (*Shell).cmdHeaders, []string{".header"}},
		{".x", "[on|off|auto]", "expanded display: a `column | value` line each (auto: rows wider than the terminal)", (*Shell).cmdExpanded, []string{`\x`}},
		{".output", "[FILE]", "send results to FILE from now on (no FILE: back to the terminal)", (*Shell).cmdOutput, []string{`\o`}},
		{".once", "FILE", "send the next statement's results to FILE", (*Shell).cmdOnce, nil},
		{".pager", "on|off", "show results longer than the screen through $PAGER (default less -S)", (*Shell).cmdPager, nil},
		{".timing", "[on|off]", "print the elapsed time after each statement", (*Shell).cmdTiming, []string{`\timing`}},
		{".quit", "", "leave (Ctrl-D too)", func(s *Shell, _ context.Context, _ string) { s.quit = true }, []string{".exit", `\q`}},
	}
}

func (s *Shell) command(ctx context.Context, line string) {
	name, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	if c, ok := findCommand(name); ok {
		c.run(s, ctx, arg)
		return
	}
	fmt.Fprintf(s.errOut, "unknown command %s; .help lists them\n", name)
}

// findCommand finds a command by its name or an alias.
func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return command{}, false
}

// isCommand reports whether a line typed at an empty prompt is a command
// rather than VQL: a dot-command, a psql backslash command, or help (no
// VQL statement starts with the word help).
func isCommand(line string) bool {
	name, _, _ := strings.Cut(line, " ")
	return strings.HasPrefix(line, ".") || strings.HasPrefix(line, `\`) || strings.EqualFold(name, "help")
}

func (s *Shell) cmdHelp(_ context.Context, arg string) {
	if arg != "" {
		s.helpOn(arg)
		return
	}
	fmt.Fprintln(s.out, "Type VQL statements. A statement typed on one line runs when it is complete; one that is not")
	fmt.Fprintln(s.out, "finished (an open bracket, a trailing WHERE) continues on the next line, and once it has")
	fmt.Fprintln(s.out, "several lines it runs at a trailing ; or an empty line. Tab completes; Ctrl-C cancels a query")
	fmt.Fprintln(s.out, "or clears the line; Ctrl-D exits.")
	for _, c := range commands {
		doc := c.doc
		if len(c.aliases) > 0 {
			doc += " (also " + strings.Join(c.aliases, ", ") + ")"
		}
		fmt.Fprintf(s.out, "  %-28s %s\n", strings.TrimSpace(c.name+" "+c.args), doc)
	}
}

// helpOn describes the plugins and functions called name, as vqlq help
// NAME does.
func (s *Shell) helpOn(name string) {
	text, found := s.engine.Help(name)
	if !found {
		fmt.Fprintf(s.errOut, "%s; .plugins and .functions list them\n", text)
		return
	}
	fmt.Fprint(s.out, text)
}

// describe prints declarations: the same text `vqlq help` shows.
func (s *Shell) describe(kind string, infos []vql.Info, only string) {
	found := false
	for _, info := range infos {
		if only != "" && info.Name != only {
			continue
		}
		found = true
		var args []string
		for _, a := range info.Args {
			spec := a.Name
			if a.Required {
				spec += "*"
			}
			args = append(args, spec)
		}
		fmt.Fprintf(s.out, "%s(%s)\n    %s\n", info.Name, strings.Join(args, ", "), info.Doc)
		if only != "" {
			for _, a := range info.Args {
				req := ""
				if a.Required {
					req = ", required"
				}
				fmt.Fprintf(s.out, "      %-12s %s%s — %s\n", a.Name, a.Type, req, a.Doc)
			}
		}
	}
	if !found {
		fmt.Fprintf(s.errOut, "no %s named %s\n", kind, only)
	}
}

func (s *Shell) cmdPlugins(_ context.Context, arg string) {
	s.describe("plugin", s.engine.Plugins(), arg)
}

func (s *Shell) cmdFunctions(_ context.Context, arg string) {
	s.describe("function", s.engine.Functions(), arg)
}

func (s *Shell) cmdArtifacts(ctx context.Context, arg string) {
	if _, err := regexp.Compile(arg); err != nil {
		fmt.Fprintf(s.errOut, ".artifacts: %v\n", err)
		return
	}
	for _, row := range s.collect(ctx, "SELECT name, type FROM artifact_definitions() WHERE name =~ "+quote(arg)) {
		name, _ := row.Get("name")
		typ, _ := row.Get("type")
		fmt.Fprintf(s.out, "%-45s %s\n", name, typ)
	}
}

// quote makes a VQL raw string literal.
func quote(s string) string { return "'''" + s + "'''" }

func (s *Shell) cmdQueues(ctx context.Context, _ string) {
	s.Run(ctx, "SELECT * FROM queues()", "")
}

func (s *Shell) cmdOrg(_ context.Context, arg string) {
	if arg == "" {
		fmt.Fprintln(s.out, s.org)
		return
	}
	if err := queues.CheckOrg(arg); err != nil {
		fmt.Fprintln(s.errOut, err)
		return
	}
	s.org = arg
	s.target.SetOrg(arg)
}

func (s *Shell) cmdLoad(ctx context.Context, arg string) {
	if arg == "" {
		fmt.Fprintln(s.errOut, "usage: .load FILE.vql")
		return
	}
	text, err := os.ReadFile(arg)
	if err != nil {
		fmt.Fprintln(s.errOut, err)
		return
	}
	s.Run(ctx, string(text), arg)
}

func (s *Shell) cmdFormat(_ context.Context, arg string) {
	if arg == "" {
		fmt.Fprintln(s.out, s.format)
		return
	}
	if arg == "column" || arg == "box" { // sqlite3's names for a table
		arg = "table"
	}
	if _, err := output.New(arg, s.out, output.Options{}); err != nil {
		fmt.Fprintln(s.errOut, err)
		return
	}
	s.format = arg
}

// onOff reads the argument of a setting: on or off, or (none) the
// opposite of now, as psql's \timing and \x toggle.
func (s *Shell) onOff(usage, arg string, now bool) (bool, bool) {
	switch strings.ToLower(arg) {
	case "on":
		return true, true
	case "off":
		return false, true
	case "":
		return !now, true
	}
	fmt.Fprintln(s.errOut, "usage: "+usage)
	return now, false
}

func (s *Shell) cmdTiming(_ context.Context, arg string) {
	if on, ok := s.onOff(".timing on|off", arg, s.timing); ok {
		s.timing = on
		fmt.Fprintf(s.out, "Timing is %s.\n", onOffWord(on))
	}
}

func (s *Shell) cmdHeaders(_ context.Context, arg string) {
	if on, ok := s.onOff(".headers on|off", arg, s.headers); ok {
		s.headers = on
	}
}

func (s *Shell) cmdPager(_ context.Context, arg string) {
	if on, ok := s.onOff(".pager on|off", arg, s.pager); ok {
		s.pager = on
		fmt.Fprintf(s.out, "Pager is %s.\n", onOffWord(on))
	}
}

func (s *Shell) cmdExpanded(_ context.Context, arg string) {
	if strings.EqualFold(arg, "auto") {
		s.expanded = output.ExpandAuto
		fmt.Fprintln(s.out, "Expanded display is used automatically.")
		return
	}
	if on, ok := s.onOff(".x on|off|auto", arg, s.expanded == output.ExpandOn); ok {
		s.expanded = output.ExpandOff
		if on {
			s.expanded = output.ExpandOn
		}
		fmt.Fprintf(s.out, "Expanded display is %s.\n", onOffWord(on))
	}
}

func onOffWord(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func (s *Shell) cmdOutput(_ context.Context, arg string) {
	if s.outFile != nil {
		s.outFile.Close()
		s.outFile = nil
	}
	if arg == "" || arg == "stdout" {
		return
	}
	f, err := os.OpenFile(arg, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintf(s.errOut, ".output: %v\n", err)
		return
	}
	s.outFile = f
}

func (s *Shell) cmdOnce(_ context.Context, arg string) {
	if arg == "" {
		fmt.Fprintln(s.errOut, "usage: .once FILE")
		return
	}
	s.once = arg
}

// commandNames lists the dot-commands, for completion.
func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
		for _, a := range c.aliases {
			if strings.HasPrefix(a, ".") {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}
