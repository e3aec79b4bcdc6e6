package repl

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// command is one dot-command.
type command struct {
	name, args, doc string
	run             func(s *Shell, ctx context.Context, arg string)
}

var commands []command

func init() {
	commands = []command{
		{".help", "", "this list", (*Shell).cmdHelp},
		{".plugins", "[NAME]", "plugins with their arguments", (*Shell).cmdPlugins},
		{".functions", "[NAME]", "functions with their arguments", (*Shell).cmdFunctions},
		{".artifacts", "[REGEX]", "artifacts of the current org", (*Shell).cmdArtifacts},
		{".queues", "", "queues of the current org", (*Shell).cmdQueues},
		{".org", "[ID]", "show or switch the org (LETs are kept)", (*Shell).cmdOrg},
		{".load", "FILE.vql", "run a script in this session", (*Shell).cmdLoad},
		{".format", "json|jsonl|csv|table", "output mode", (*Shell).cmdFormat},
		{".timing", "on|off", "print row count and elapsed time after each statement", (*Shell).cmdTiming},
		{".quit", "", "leave (Ctrl-D too)", func(s *Shell, _ context.Context, _ string) { s.quit = true }},
	}
}

func (s *Shell) command(ctx context.Context, line string) {
	name, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	for _, c := range commands {
		if c.name == name || (name == ".exit" && c.name == ".quit") {
			c.run(s, ctx, arg)
			return
		}
	}
	fmt.Fprintf(s.errOut, "unknown command %s; .help lists them\n", name)
}

func (s *Shell) cmdHelp(context.Context, string) {
	fmt.Fprintln(s.out, "Type VQL statements. A statement typed on one line runs when it is complete; one that is not")
	fmt.Fprintln(s.out, "finished (an open bracket, a trailing WHERE) continues on the next line, and once it has")
	fmt.Fprintln(s.out, "several lines it runs at a trailing ; or an empty line. Tab completes; Ctrl-C cancels a query")
	fmt.Fprintln(s.out, "or clears the line; Ctrl-D exits.")
	for _, c := range commands {
		fmt.Fprintf(s.out, "  %-28s %s\n", strings.TrimSpace(c.name+" "+c.args), c.doc)
	}
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
	if _, err := output.New(arg, s.out, 0); err != nil {
		fmt.Fprintln(s.errOut, err)
		return
	}
	s.format = arg
}

func (s *Shell) cmdTiming(_ context.Context, arg string) {
	switch arg {
	case "on":
		s.timing = true
	case "off":
		s.timing = false
	default:
		fmt.Fprintln(s.errOut, "usage: .timing on|off")
	}
}

// commandNames lists the dot-commands, for completion.
func commandNames() []string {
	out := make([]string, len(commands))
	for i, c := range commands {
		out[i] = c.name
	}
	sort.Strings(out)
	return out
}
