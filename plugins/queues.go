package plugins

import (
	"context"
	"fmt"
	"iter"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// Queues returns the plugins that read event queues and the artifact
// repository. The manager is fetched on first use.
func Queues(provider queues.Provider) []vql.Plugin {
	return []vql.Plugin{
		watchMonitoring(provider), sourcePlugin(provider), queuesPlugin(provider), consumersPlugin(provider), artifactDefinitions(provider), orgsPlugin(provider),
		deleteEvents(provider),
	}
}

// withManager runs fn with the manager, or logs why there is none.
func withManager(provider queues.Provider, scope *vql.Scope, name string, fn func(m *queues.Manager) iter.Seq[vql.Row]) iter.Seq[vql.Row] {
	m, err := provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return none
	}
	return fn(m)
}

// timeArg reads a time argument (see value.ToTime), logging `plugin: name: problem` when it
// cannot be read.
func timeArg(scope *vql.Scope, args *vql.Args, plugin, name string) (time.Time, bool) {
	t, err := value.ToTime(args.Value(name))
	if err != nil {
		scope.Errorf("%s: %s: %v", plugin, name, err)
		return time.Time{}, false
	}
	return t, true
}

func yieldDicts(seq iter.Seq[*ordereddict.Dict]) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		for d := range seq {
			if !yield(d) {
				return
			}
		}
	}
}

func watchMonitoring(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name:        "watch_monitoring",
			Permissions: []vql.Permission{vql.PermReadResults},
			Doc:         "Stream the events of an event queue as they arrive; never ends by itself.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The queue (artifact name, or Artifact/Source)."},
				{Name: "start_time", Type: vql.TypeAny, Doc: "Replay stored events since this time first (epoch, RFC 3339 or timestamp)."},
				{Name: "consumer", Type: vql.TypeString, Doc: "A durable position: resume after the last event a watcher of this name acknowledged (rows then carry _seq)."},
				{Name: "client_id", Type: vql.TypeString, Doc: "Of a CLIENT_EVENT queue, only the rows this client sent (their ClientId)."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			name := args.String("artifact", "")
			consumer := args.String("consumer", "")
			client := args.String("client_id", "")
			if args.Failed() {
				return none
			}
			start, ok := timeArg(scope, args, "watch_monitoring", "start_time")
			if !ok {
				return none
			}
			return withManager(provider, scope, "watch_monitoring", func(m *queues.Manager) iter.Seq[vql.Row] {
				describe := parser.Redacted(scope.QueryText())
				if describe == "" {
					describe = fmt.Sprintf("watch_monitoring(artifact='%s')", name)
				}
				if consumer != "" {
					describe += " [consumer " + consumer + "]"
				}
				seq, err := m.Watch(ctx, OrgOf(scope), name, queues.WatchOptions{
					StartTime: start, Consumer: consumer, Describe: describe,
					Principal: SenderOf(scope).Principal, Override: scope.Identity().All,
					OnDrop: func(n uint64) {
						scope.Log(vql.LevelWarn, "watch_monitoring: dropped %d events from %s: watcher too slow", n, name)
					},
					OnSkip: func(n uint64) {
						scope.Log(vql.LevelWarn, "watch_monitoring: consumer %q of %s: %d unread events expired (retention) before it resumed; it goes on after them", consumer, name, n)
					},
				})
				if err != nil {
					scope.Errorf("%v", err)
					return none
				}
				if client != "" {
					seq = ofClient(seq, client)
				}
				return yieldDicts(seq)
			})
		},
	}
}

// ofClient keeps the rows one client sent. A consumer's position still
// moves over the others: it is done with them.
func ofClient(rows iter.Seq[*ordereddict.Dict], client string) iter.Seq[*ordereddict.Dict] {
	return func(yield func(*ordereddict.Dict) bool) {
		for d := range rows {
			if id, _ := d.GetString("ClientId"); id != client {
				continue
			}
			if !yield(d) {
				return
			}
		}
	}
}

// SourcePlugin is source() over the event queues alone, for the hosts
// that extend it (package flows reads flows' results through it too).
func SourcePlugin(provider queues.Provider) vql.Plugin { return sourcePlugin(provider) }

func sourcePlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name:        "source",
			Permissions: []vql.Permission{vql.PermReadResults},
			Doc:         "Read the stored events of a disk-backed queue, in order, then end.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The queue (artifact name, or Artifact/Source)."},
				{Name: "start_time", Type: vql.TypeAny, Doc: "Only events at or after this time."},
				{Name: "end_time", Type: vql.TypeAny, Doc: "Only events at or before this time."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			name := args.String("artifact", "")
			if args.Failed() {
				return none
			}
			start, ok := timeArg(scope, args, "source", "start_time")
			if !ok {
				return none
			}
			end, ok := timeArg(scope, args, "source", "end_time")
			if !ok {
				return none
			}
			return withManager(provider, scope, "source", func(m *queues.Manager) iter.Seq[vql.Row] {
				seq, err := m.Source(ctx, OrgOf(scope), name, start, end)
				if err != nil {
					scope.Errorf("%v", err)
					return none
				}
				return yieldDicts(seq)
			})
		},
	}
}

func queuesPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "queues", Doc: "The queues of the current org: type, persistence, watchers, events sent, stored, dropped, last event."},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			return withManager(provider, scope, "queues", func(m *queues.Manager) iter.Seq[vql.Row] {
				return func(yield func(vql.Row) bool) {
					for _, q := range m.Queues(OrgOf(scope)) {
						var last any
						if !q.LastEvent.IsZero() {
							last = q.LastEvent
						}
						row := ordereddict.NewDict().Set("name", q.Name).Set("type", q.Type).
							Set("persisted", q.Persisted).Set("watchers", int64(q.Watchers)).
							Set("events", q.Events).Set("stored", q.Stored).Set("dropped", q.Dropped).
							Set("last_event", last)
						if !yield(row) {
							return
						}
					}
				}
			})
		},
	}
}

func consumersPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name:        "consumers",
			Permissions: []vql.Permission{vql.PermReadResults},
			Doc:         "The named consumers of the current org: queue, name, owner, position (last acknowledged _seq), lag, last_ack, skipped (expired unread), created, and of the forwarder reading it (NULL and 0 when none): forwarder, forwarded, retries, dead_letters, last_error.",
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			return withManager(provider, scope, "consumers", func(m *queues.Manager) iter.Seq[vql.Row] {
				return func(yield func(vql.Row) bool) {
					for _, c := range m.Consumers(OrgOf(scope)) {
						var lastAck any
						if !c.LastAck.IsZero() {
							lastAck = c.LastAck
						}
						row := ordereddict.NewDict().Set("queue", c.Queue).Set("name", c.Name).Set("owner", c.Owner).
							Set("position", int64(c.Position)).Set("lag", int64(c.Lag)).Set("last_ack", lastAck).
							Set("skipped", int64(c.Skipped)).Set("created", c.Created)
						setForwarder(row, c.Forwarder)
						if !yield(row) {
							return
						}
					}
				}
			})
		},
	}
}

// setForwarder adds the columns of the forwarder reading a consumer
// (elastic_upload(), …), the same columns when none is.
func setForwarder(row *ordereddict.Dict, f *queues.ForwardInfo) {
	if f == nil {
		f = &queues.ForwardInfo{}
	}
	var sink, lastError any
	if f.Sink != "" {
		sink = f.Sink
	}
	if f.LastError != "" {
		lastError = f.LastError
	}
	row.Set("forwarder", sink).Set("forwarded", f.Forwarded).Set("retries", f.Retries).
		Set("dead_letters", f.DeadLetters).Set("last_error", lastError)
}

// ArtifactRow is an artifact as artifact_definitions() shows it: every
// field of the format, empty ones as empty text or lists, so that every
// row has the same columns.
func ArtifactRow(a *artifacts.Artifact) *ordereddict.Dict {
	params := []any{}
	for _, p := range a.Parameters {
		d := ordereddict.NewDict().Set("name", p.Name).Set("default", p.Default).
			Set("description", p.Description).Set("type", p.Type)
		if p.FriendlyName != "" {
			d.Set("friendly_name", p.FriendlyName)
		}
		if p.ValidatingRegex != "" {
			d.Set("validating_regex", p.ValidatingRegex)
		}
		if p.ArtifactType != "" {
			d.Set("artifact_type", p.ArtifactType)
		}
		if len(p.Choices) > 0 {
			d.Set("choices", texts(p.Choices))
		}
		params = append(params, d)
	}
	sources := []any{}
	for _, s := range a.Sources {
		d := ordereddict.NewDict()
		if s.Name != "" {
			d.Set("name", s.Name)
		}
		if s.Description != "" {
			d.Set("description", s.Description)
		}
		d.Set("query", s.Query)
		if s.Precondition != "" {
			d.Set("precondition", s.Precondition)
		}
		if len(s.Notebook) > 0 {
			d.Set("notebook", s.Notebook)
		}
		sources = append(sources, d)
	}
	return ordereddict.NewDict().Set("name", a.Name).Set("description", a.Description).
		Set("author", a.Author).Set("reference", texts(a.Reference)).Set("type", strings.ToLower(string(a.Type))).
		Set("parameters", params).Set("sources", sources).Set("column_types", orEmpty(a.ColumnTypes)).
		Set("precondition", a.Precondition).Set("export", a.Export).Set("imports", texts(a.Imports)).
		Set("tools", orEmpty(a.Tools)).Set("reports", orEmpty(a.Reports)).Set("resources", a.Resources).
		Set("required_permissions", texts(a.RequiredPermissions)).Set("implied_permissions", texts(a.ImpliedPermissions)).
		Set("impersonate", a.Impersonate).Set("aliases", texts(a.Aliases)).
		Set("built_in", a.BuiltIn)
}

// ArtifactRowIn is ArtifactRow with what org records about the artifact
// beside its definition (its tags), under metadata as in Velociraptor's
// rows; an artifact with none has no metadata column.
func ArtifactRowIn(repo *artifacts.Repository, org string, a *artifacts.Artifact) *ordereddict.Dict {
	row := ArtifactRow(a)
	if md, ok := repo.Metadata(org, a.Name); ok {
		d := ordereddict.NewDict()
		if len(md.Tags) > 0 {
			d.Set("tags", texts(md.Tags))
		}
		if md.Hidden {
			d.Set("hidden", true)
		}
		if md.Basic {
			d.Set("basic", true)
		}
		row.Set("metadata", d)
	}
	return row
}

// texts is a list of strings as VQL sees it, never NULL.
func texts(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

func orEmpty(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}

var artifactCall = regexp.MustCompile(`Artifact\.([A-Za-z0-9_.]+?)\s*\(`)

func artifactDefinitions(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: "artifact_definitions",
			// As in Velociraptor: definitions are results to read.
			Permissions: []vql.Permission{vql.PermReadResults},
			Doc:         "One row per artifact of the repository, sorted by name.",
			Args: []vql.ArgSpec{
				{Name: "names", Type: vql.TypeList, Doc: "Only these artifacts (default: all)."},
				{Name: "deps", Type: vql.TypeBool, Doc: "Also list the artifacts these call (Artifact.X()) or import."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			names := args.Strings("names")
			deps := args.Bool("deps", false)
			if args.Failed() {
				return none
			}
			return withManager(provider, scope, "artifact_definitions", func(m *queues.Manager) iter.Seq[vql.Row] {
				org := OrgOf(scope)
				repo := m.Repository()
				var list []*artifacts.Artifact
				if len(names) == 0 {
					list = repo.List(org)
				} else {
					seen := map[string]bool{}
					var add func(name string)
					add = func(name string) {
						if seen[name] {
							return
						}
						seen[name] = true
						a, ok := repo.Get(org, name)
						if !ok {
							scope.Errorf("artifact_definitions: artifact %s not known%s", name, repo.Missing(org, name))
							return
						}
						list = append(list, a)
						if deps {
							for _, imp := range a.Imports {
								add(imp)
							}
							for _, s := range a.Sources {
								for _, mm := range artifactCall.FindAllStringSubmatch(s.Query, -1) {
									add(mm[1])
								}
							}
						}
					}
					for _, n := range names {
						add(n)
					}
					sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
				}
				return func(yield func(vql.Row) bool) {
					for _, a := range list {
						if !yield(ArtifactRowIn(repo, org, a)) {
							return
						}
					}
				}
			})
		},
	}
}
