package plugins

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/suggest"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
)

// RunArtifact runs an artifact's sources with the given parameters and
// yields their rows, one source after the other. Parameters not given take
// their defaults; text is converted by the parameter's type (Parameter.Convert). Each
// source runs in its own scope, under the caller's, with ArtifactName set.
// An artifact whose required_permissions the session lacks does not run
// (MayRun); its sources hold its implied_permissions.
func RunArtifact(ctx context.Context, scope *vql.Scope, a *artifacts.Artifact, params *ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		if !MayRun(scope, "Artifact."+a.Name, a) {
			return
		}
		// The parameters are bound once, so that a bad one is reported
		// once, not for every source.
		vars, err := artifactVars(scope, a, params)
		if err != nil {
			scope.Errorf("Artifact.%s: %v", a.Name, err)
			return
		}
		for _, src := range a.Sources {
			for row := range runSource(ctx, scope, a, src, vars) {
				if !yield(row) {
					return
				}
			}
		}
	}
}

// RunSource runs one source of an artifact (see RunArtifact). Server
// monitoring runs each source of an event artifact on its own, since event
// queries never end.
//
// In the source's scope the parameters are bound first, then the exports
// of the artifacts it imports and its own export run (their LETs are in
// scope), then the precondition (the source's, else the artifact's): when
// it yields no row the source is skipped, with an INFO message. A source
// of notebook cells alone runs nothing.
func RunSource(ctx context.Context, scope *vql.Scope, a *artifacts.Artifact, src artifacts.Source, params *ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		if !MayRun(scope, "Artifact."+a.Name, a) {
			return
		}
		vars, err := artifactVars(scope, a, params)
		if err != nil {
			scope.Errorf("Artifact.%s: %v", a.Name, err)
			return
		}
		for row := range runSource(ctx, scope, a, src, vars) {
			if !yield(row) {
				return
			}
		}
	}
}

// runSource runs one source with its parameters bound (vars). Each
// source has its own copy: its LETs do not leak into the next.
func runSource(ctx context.Context, scope *vql.Scope, a *artifacts.Artifact, src artifacts.Source, vars map[string]any) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		s := scope.Granting(a.Implied()).WithVars(maps.Clone(vars))
		if err := runExports(ctx, s, a); err != nil {
			scope.Errorf("Artifact.%s: %v", a.Name, err)
			return
		}
		if cond := src.Precondition; cond != "" || a.Precondition != "" {
			if cond == "" {
				cond = a.Precondition
			}
			ok, err := precondition(ctx, s, cond)
			if err != nil {
				scope.Errorf("Artifact.%s: precondition: %v", a.Name, err)
				return
			}
			if !ok {
				scope.Log(vql.LevelInfo, "Artifact.%s: precondition is false: %s not run", a.Name, sourceLabel(src))
				return
			}
		}
		if strings.TrimSpace(src.Query) == "" {
			return
		}
		prog, err := parser.Parse(src.Query, a.Name)
		if err != nil {
			scope.Errorf("Artifact.%s: %v", a.Name, err)
			return
		}
		for _, stmt := range prog.Statements {
			for row := range s.Exec(ctx, stmt) {
				if !yield(row) {
					return
				}
			}
		}
	}
}

// MayRun refuses an artifact whose required_permissions the session
// lacks, as a call is refused: logged with the permission named, and
// reported to the session's OnDenied (the server audits it). call names
// what was refused: Artifact.X, or collect(artifact=X).
func MayRun(scope *vql.Scope, call string, a *artifacts.Artifact) bool {
	return len(a.RequiredPermissions) == 0 || scope.Require(call, a.Required()...)
}

// sourceLabel names a source in messages.
func sourceLabel(src artifacts.Source) string {
	if src.Name != "" {
		return "source " + src.Name
	}
	return "source"
}

// runExports runs, in s, the exports of the artifacts a imports and then
// its own, so that their LETs are in scope for the source.
func runExports(ctx context.Context, s *vql.Scope, a *artifacts.Artifact) error {
	texts := make([]string, 0, len(a.Imported)+1)
	for _, imp := range a.Imported {
		if !imp.Found {
			return fmt.Errorf("imports unknown artifact %s", imp.Name)
		}
		texts = append(texts, imp.Export)
	}
	texts = append(texts, a.Export)
	for _, text := range texts {
		if strings.TrimSpace(text) == "" {
			continue
		}
		prog, err := parser.Parse(text, "export")
		if err != nil {
			return fmt.Errorf("export: %v", err)
		}
		for _, stmt := range prog.Statements {
			for range s.Exec(ctx, stmt) {
			}
		}
	}
	return nil
}

// artifactVars binds an artifact's parameters: defaults, overridden by the
// given values, text converted by the parameter's type (Parameter.Convert).
func artifactVars(scope *vql.Scope, a *artifacts.Artifact, params *ordereddict.Dict) (map[string]any, error) {
	known := map[string]bool{}
	var names []string
	given := map[string]bool{}
	if params != nil {
		for _, key := range params.Keys() {
			given[key] = true
		}
	}
	vars := map[string]any{queues.ArtifactVar: a.Name}
	for _, p := range a.Parameters {
		known[p.Name] = true
		names = append(names, p.Name)
		if given[p.Name] {
			continue
		}
		v, err := p.Convert(p.Default)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: default: %v", p.Name, err)
		}
		vars[p.Name] = v
	}
	if params != nil {
		for _, item := range params.Items() {
			if !known[item.Key] {
				scope.Errorf("Artifact.%s: unknown parameter %s%s", a.Name, item.Key, suggest.DidYouMean(item.Key, names))
				continue
			}
			s, ok := item.Value.(string)
			if !ok {
				vars[item.Key] = item.Value
				continue
			}
			v, err := paramOf(a, item.Key).Convert(s)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %v", item.Key, err)
			}
			vars[item.Key] = v
		}
	}
	return vars, nil
}

func paramOf(a *artifacts.Artifact, name string) artifacts.Parameter {
	for _, p := range a.Parameters {
		if p.Name == name {
			return p
		}
	}
	return artifacts.Parameter{Name: name}
}

func precondition(ctx context.Context, s *vql.Scope, text string) (bool, error) {
	prog, err := parser.Parse(text, "precondition")
	if err != nil {
		return false, err
	}
	for _, stmt := range prog.Statements {
		for range s.Exec(ctx, stmt) {
			return true, nil
		}
	}
	return false, nil
}

// ArtifactResolver makes every artifact of the repository callable as a
// plugin: `SELECT * FROM Artifact.Custom.Name(Param='x')`.
func ArtifactResolver(provider queues.Provider) func(name string) (vql.Plugin, bool) {
	return func(name string) (vql.Plugin, bool) {
		artName, ok := strings.CutPrefix(name, "Artifact.")
		if !ok {
			return nil, false
		}
		return vql.PluginFunc{
			Meta: vql.Info{Name: name, Doc: "Run the sources of artifact " + artName + ".", FreeArgs: true},
			Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
				m, err := provider()
				if err != nil {
					scope.Errorf("%s: %v", name, err)
					return none
				}
				a, ok := m.Repository().Get(OrgOf(scope), artName)
				if !ok {
					scope.Errorf("Plugin %s not found: no artifact %s%s", name, artName, m.Repository().Missing(OrgOf(scope), artName))
					return none
				}
				return RunArtifact(ctx, scope, a, args.Dict())
			},
		}, true
	}
}

// OrgOf is the org a query runs in: its session's (the default org when
// the host named none). Every queue plugin and function asks it; no
// variable a query sets can change it.
func OrgOf(scope *vql.Scope) string {
	if org := scope.Org(); org != "" {
		return org
	}
	return queues.DefaultOrg
}

// SenderOf is who a query's events come from: its session's principal
// ("server" for the folder's owner).
func SenderOf(scope *vql.Scope) queues.Sender {
	if p := scope.Identity().Principal; p != "" {
		return queues.Sender{Principal: p}
	}
	return queues.ServerSender
}

// ArtifactChecker is the check the artifact repository runs on the VQL of
// a definition before accepting it (artifacts.Repository.SetChecker): the
// text must parse, and its plugins, functions and argument names must
// resolve in engine, with the artifact's parameters and ArtifactName
// defined.
func ArtifactChecker(engine *vql.Engine) artifacts.Checker {
	return func(a *artifacts.Artifact, prelude []string, text string) error {
		prog, err := parser.Parse(text, "")
		if err != nil {
			return err
		}
		exported := letNames(prelude)
		return engine.Check(prog, func(name string) bool {
			if name == queues.ArtifactVar || exported[name] {
				return true
			}
			for _, p := range a.Parameters {
				if p.Name == name {
					return true
				}
			}
			return false
		})
	}
}

// letNames are the names the LETs of texts define (an export's), for the
// check of the texts that run after them. A text that does not parse
// defines nothing here: its own check reports it.
func letNames(texts []string) map[string]bool {
	names := map[string]bool{}
	for _, text := range texts {
		prog, err := parser.Parse(text, "")
		if err != nil {
			continue
		}
		for _, st := range prog.Statements {
			if l, ok := st.(*ast.Let); ok {
				names[l.Name.Value] = true
			}
		}
	}
	return names
}
