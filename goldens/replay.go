package goldens

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vqlq/vqlq/conformance"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// QueryTimeout bounds one query of a replay, so that a plugin that never
// ends fails its query instead of hanging the test.
const QueryTimeout = 30 * time.Second

// Qualifies says whether vqlq can replay the file, and if not why: a query
// reads the test files of Velociraptor's repository (srcDir), or the check
// stage finds a plugin or function that e lacks. Other problems of the
// check (an argument vqlq's plugin does not take) do not disqualify the
// file: they are vqlq's to fix, and their queries fail.
func Qualifies(f *File, e *vql.Engine) (bool, string) {
	defined := map[string]bool{}
	for k := range f.Parameters {
		defined[k] = true
	}
	var progs []*ast.Program
	for _, q := range f.Queries {
		if strings.Contains(q.Text, "srcDir") {
			return false, "reads the test files of Velociraptor's repository (srcDir)"
		}
		prog, err := parser.Parse(q.Text, "")
		if err != nil {
			continue
		}
		progs = append(progs, prog)
		for _, st := range prog.Statements {
			if l, ok := st.(*ast.Let); ok {
				defined[l.Name.Value] = true
			}
		}
	}
	missing := map[string]bool{}
	for _, prog := range progs {
		var ce *vql.CheckError
		if err := e.Check(prog, func(n string) bool { return defined[n] }); !errors.As(err, &ce) {
			continue
		}
		for _, p := range ce.Problems {
			if name, ok := missingName(p.Msg); ok {
				missing[name] = true
			}
		}
	}
	if len(missing) == 0 {
		return true, ""
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return false, "vqlq lacks " + strings.Join(names, ", ")
}

// missingName is the plugin or function a check message says is missing
// (a function where Velociraptor has a plugin counts as missing).
func missingName(msg string) (string, bool) {
	for _, prefix := range []string{"unknown plugin ", "unknown function "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			name, _, _ := strings.Cut(rest, " ")
			return name, true
		}
	}
	for _, infix := range []string{" is a function, not a plugin", " is a plugin, not a function"} {
		if name, _, ok := strings.Cut(msg, infix); ok {
			return name, true
		}
	}
	return "", false
}

// Replay runs the file's queries in order in the fixture's session and
// returns, for each query, "" when its rows are the expected ones or a
// message saying what differs.
func Replay(f *File, fx *Fixture) []string {
	out := make([]string, len(f.Queries))
	for i, q := range f.Queries {
		out[i] = replayOne(q, fx)
	}
	return out
}

func replayOne(q Query, fx *Fixture) (failure string) {
	defer func() {
		if r := recover(); r != nil {
			failure = fmt.Sprintf("panic: %v", r)
		}
	}()
	fx.Running(q.Text)
	prog, err := parser.Parse(q.Text, "")
	if err != nil {
		return fmt.Sprintf("parse error: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
	defer cancel()
	rows := []any{}
	for r := range fx.Session().Run(ctx, prog) {
		rows = append(rows, r.Row)
	}
	if ctx.Err() != nil {
		return fmt.Sprintf("did not end within %v", QueryTimeout)
	}
	got, err := value.EncodeJSON(rows)
	if err != nil {
		return fmt.Sprintf("cannot encode rows: %v", err)
	}
	if !conformance.SameJSON(got, q.Expected) {
		return fmt.Sprintf("expected: %s\n  got:      %s", conformance.Compact(q.Expected), got)
	}
	return ""
}
