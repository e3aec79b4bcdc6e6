package plugins

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/suggest"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// RunArtifact runs an artifact's sources with the given parameters and
// yields their rows, one source after the other. Parameters not given take
// their defaults; typed parameters (int, bool, json) are converted. Each
// source runs in its own scope, under the caller's, with ArtifactName set.
func RunArtifact(ctx context.Context, scope *vql.Scope, a *artifacts.Artifact, params *ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		for _, src := range a.Sources {
			for row := range RunSource(ctx, scope, a, src, params) {
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
func RunSource(ctx context.Context, scope *vql.Scope, a *artifacts.Artifact, src artifacts.Source, params *ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		s := scope.WithVars(artifactVars(scope, a, params))
		if src.Precondition != "" {
			ok, err := precondition(ctx, s, src.Precondition)
			if err != nil {
				scope.Errorf("Artifact.%s: precondition: %v", a.Name, err)
				return
			}
			if !ok {
				return
			}
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

// artifactVars binds an artifact's parameters: defaults, overridden by the
// given values (strings converted by the parameter's type).
func artifactVars(scope *vql.Scope, a *artifacts.Artifact, params *ordereddict.Dict) map[string]any {
	known := map[string]bool{}
	var names []string
	vars := map[string]any{queues.ArtifactVar: a.Name}
	for _, p := range a.Parameters {
		known[p.Name] = true
		names = append(names, p.Name)
		vars[p.Name] = convertParam(p, p.Default)
	}
	if params != nil {
		for _, item := range params.Items() {
			if !known[item.Key] {
				scope.Errorf("Artifact.%s: unknown parameter %s%s", a.Name, item.Key, suggest.DidYouMean(item.Key, names))
				continue
			}
			if s, ok := item.Value.(string); ok {
				vars[item.Key] = convertParam(paramOf(a, item.Key), s)
			} else {
				vars[item.Key] = item.Value
			}
		}
	}
	return vars
}

func paramOf(a *artifacts.Artifact, name string) artifacts.Parameter {
	for _, p := range a.Parameters {
		if p.Name == name {
			return p
		}
	}
	return artifacts.Parameter{Name: name}
}

// convertParam turns a parameter's text into the value its type says.
func convertParam(p artifacts.Parameter, text string) any {
	switch strings.ToLower(p.Type) {
	case "int", "int64":
		if i, err := strconv.ParseInt(strings.TrimSpace(text), 0, 64); err == nil {
			return i
		}
	case "float":
		if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil {
			return f
		}
	case "bool":
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "y", "yes", "true", "1":
			return true
		case "", "n", "no", "false", "0":
			return false
		}
	case "json", "json_array":
		if json.Valid([]byte(text)) {
			if v, err := value.DecodeJSON([]byte(text)); err == nil {
				return v
			}
		}
	}
	return text
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
	return func(a *artifacts.Artifact, text string) error {
		prog, err := parser.Parse(text, "")
		if err != nil {
			return err
		}
		return engine.Check(prog, func(name string) bool {
			if name == queues.ArtifactVar {
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
