package functions

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/source"
)

// verify judges an artifact without installing it, with the check a
// server-side artifact passes before the repository accepts it (parse,
// plugins, functions, argument names, variables), so that a bundle can be
// vetted before import (Server.Utils.ArtifactVerifier).
func verify(provider queues.Provider) vql.FunctionFunc {
	return fn("verify", "Check an artifact (its YAML, or the name of one) as the repository would before accepting it; returns {Artifact, Errors, Warnings}, each problem at its line and column in the definition.",
		[]vql.ArgSpec{
			arg("artifact", vql.TypeString, true, "The artifact's YAML, or the name of an artifact the org (or the repository) has."),
			arg("repository", vql.TypeString, false, "A repository of this session (see artifact_set(repository=)): its artifacts are seen before the org's, and a definition verified here is added to it."),
			arg("disable_override", vql.TypeBool, false, "Report a definition that would replace a built-in artifact as an error."),
		}, func(c call) any {
			text := c.args.String("artifact", "")
			repoName := c.args.String("repository", "")
			noOverride := c.args.Bool("disable_override", false)
			if c.args.Failed() {
				return nil
			}
			m := manager(provider, c.scope, "verify")
			if m == nil {
				return nil
			}
			org := plugins.OrgOf(c.scope)
			repo := m.Repository()
			var local *localRepository
			if repoName != "" {
				local, _ = sessionRepository(c.scope, repoName)
			}
			lookup := func(name string) (*artifacts.Artifact, bool) {
				if local != nil {
					if a, ok := local.get(name); ok {
						return a, true
					}
				}
				return repo.Get(org, name)
			}
			res := verifyResult{artifact: text}
			a, ok := lookup(strings.TrimSpace(text))
			if !ok {
				parsed, err := artifacts.Parse([]byte(text), "")
				if err != nil {
					res.errors = append(res.errors, "YAML error: "+err.Error())
					return res.dict()
				}
				a = parsed
				if b, ok := repo.Get(org, a.Name); ok && b.BuiltIn && noOverride {
					res.errors = append(res.errors, fmt.Sprintf("%s: the definition would replace a built-in artifact", a.Name))
				}
				if local != nil {
					local.set(a)
				}
			}
			exportOf := func(name string) (string, bool) {
				b, ok := lookup(name)
				if !ok {
					return "", false
				}
				return b.Export, true
			}
			for _, p := range artifacts.Verify(plugins.ArtifactChecker(c.scope.Engine()), a, exportOf) {
				msg := problemText(a.Name, p)
				// The server runs server-side artifacts; a client's
				// artifact may use what only a client has.
				if !a.RunsOnServer() && missingCall(p) {
					res.warnings = append(res.warnings, msg+" (not on this server; a client may have it)")
					continue
				}
				res.errors = append(res.errors, msg)
			}
			for _, name := range calledArtifacts(a) {
				if _, ok := lookup(name); !ok {
					res.errors = append(res.errors, fmt.Sprintf("%s: calls Artifact.%s, which is not known%s", a.Name, name, repo.Missing(org, name)))
				}
			}
			return res.dict()
		})
}

type verifyResult struct {
	artifact         string
	errors, warnings []string
}

// dict is Velociraptor's shape: the artifact as given, then the problems
// as text (empty lists when there are none, so `NOT Verify.Errors` holds).
func (r verifyResult) dict() *ordereddict.Dict {
	return ordereddict.NewDict().Set("Artifact", r.artifact).
		Set("Errors", texts(r.errors)).Set("Warnings", texts(r.warnings))
}

func texts(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// problemText is one problem on one line: the artifact, where in its
// definition, and what.
func problemText(name string, err error) string {
	var se *source.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s:%s: %s", name, se.Pos, se.Msg)
	}
	return fmt.Sprintf("%s: %v", name, err)
}

// missingCall is a problem that names a plugin or function this engine
// lacks, rather than a mistake in the VQL itself.
func missingCall(err error) bool {
	var se *source.Error
	if !errors.As(err, &se) {
		return false
	}
	return strings.HasPrefix(se.Msg, "unknown plugin ") || strings.HasPrefix(se.Msg, "unknown function ")
}

var artifactCallRe = regexp.MustCompile(`Artifact\.([A-Za-z0-9_.]+?)\s*\(`)

// calledArtifacts are the artifacts a's VQL calls as Artifact.X(), each
// once, in order of first call.
func calledArtifacts(a *artifacts.Artifact) []string {
	var out []string
	seen := map[string]bool{}
	texts := []string{a.Export, a.Precondition}
	for _, s := range a.Sources {
		texts = append(texts, s.Precondition, s.Query)
	}
	for _, t := range texts {
		for _, m := range artifactCallRe.FindAllStringSubmatch(t, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}
