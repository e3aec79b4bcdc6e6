package functions

import (
	"regexp"
	"strings"
	"sync"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

func artifactSet(provider queues.Provider) vql.FunctionFunc {
	return fn("artifact_set", "Add or replace an artifact from its YAML definition; it is stored and its queues exist at once. With repository= it goes only into a named repository of this session, for verify().",
		[]vql.ArgSpec{
			arg("definition", vql.TypeString, true, "The artifact's YAML."),
			arg("prefix", vql.TypeString, false, "Put this before the artifact's name when it does not start with it already (an imported release's artifacts beside the current ones)."),
			arg("tags", vql.TypeList, false, "Tags to record with the artifact (shown by artifact_definitions as metadata.tags); they replace the ones it had."),
			arg("repository", vql.TypeString, false, "Add the artifact only to this session's repository of that name (made on first use, over the org's), not to the org's."),
		},
		func(c call) any {
			text := c.args.String("definition", "")
			prefix := c.args.String("prefix", "")
			tags := c.args.Strings("tags")
			repoName := c.args.String("repository", "")
			if c.args.Failed() {
				return nil
			}
			m := manager(provider, c.scope, "artifact_set")
			if m == nil {
				return nil
			}
			org := plugins.OrgOf(c.scope)
			// The new definition's type decides the permission, and so
			// does the type of the artifact it replaces: a client
			// artifact's writer may not overwrite a server artifact.
			parsed, _ := artifacts.Parse([]byte(text), "")
			if !mayWrite(c.scope, "artifact_set", parsed) {
				return nil
			}
			if repoName != "" {
				// As Velociraptor: a named repository takes the
				// definition as given (no prefix, no tags).
				a, err := artifacts.Parse([]byte(text), "")
				if err != nil {
					c.scope.Errorf("artifact_set: %v", err)
					return nil
				}
				local, made := sessionRepository(c.scope, repoName)
				if made {
					c.scope.Log(vql.LevelInfo, "artifact_set: creating new repository '%s'", repoName)
				}
				local.set(a)
				c.scope.Log(vql.LevelInfo, "artifact_set: added %s to repository '%s'", a.Name, repoName)
				return plugins.ArtifactRow(a)
			}
			if prefix != "" {
				text = withNamePrefix(text, prefix)
				parsed, _ = artifacts.Parse([]byte(text), "")
			}
			if parsed != nil {
				if old, ok := m.Repository().Get(org, parsed.Name); ok && !mayWrite(c.scope, "artifact_set", old) {
					return nil
				}
			}
			a, err := m.SetArtifact(c.ctx, org, text, plugins.SenderOf(c.scope).Principal)
			if err != nil {
				c.scope.Errorf("artifact_set: %v", err)
				return nil
			}
			if len(tags) > 0 {
				md, _ := m.Repository().Metadata(org, a.Name)
				md.Tags = tags
				if err := m.Repository().SetMetadata(org, a.Name, md); err != nil {
					c.scope.Errorf("artifact_set: tags: %v", err)
					return nil
				}
			}
			return plugins.ArtifactRowIn(m.Repository(), org, a)
		})
}

// nameLine is an artifact's top-level name field: a line of its own, not
// indented (a parameter's or a source's name is).
var nameLine = regexp.MustCompile(`(?m)^(name:[ \t]*)(["']?)([^\r\n]+)$`)

// withNamePrefix renames the artifact text defines to prefix+name unless
// its name starts with prefix. The YAML is edited as text so that the
// definition stays as its author wrote it.
func withNamePrefix(text, prefix string) string {
	return nameLine.ReplaceAllStringFunc(text, func(line string) string {
		m := nameLine.FindStringSubmatch(line)
		if strings.HasPrefix(m[3], prefix) {
			return line
		}
		return m[1] + m[2] + prefix + m[3]
	})
}

// localRepository is a named set of definitions that lives as long as the
// session: artifact_set(repository=) adds to it and verify(repository=)
// resolves names in it before the org's, so that a set of artifacts can be
// checked together without being installed.
type localRepository struct {
	mu     sync.Mutex
	byName map[string]*artifacts.Artifact
}

func (l *localRepository) set(a *artifacts.Artifact) {
	l.mu.Lock()
	l.byName[a.Name] = a
	l.mu.Unlock()
}

func (l *localRepository) get(name string) (*artifacts.Artifact, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.byName[name]
	return a, ok
}

// sessionRepository returns the session's repository called name, and
// whether this call made it.
func sessionRepository(scope *vql.Scope, name string) (*localRepository, bool) {
	made := false
	r := scope.SessionState("artifact_repository:"+name, func() any {
		made = true
		return &localRepository{byName: map[string]*artifacts.Artifact{}}
	}).(*localRepository)
	return r, made
}
