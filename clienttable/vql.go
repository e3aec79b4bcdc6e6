package clienttable

import (
	"context"
	"iter"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Functions are the VQL functions over the client event table of the
// query's org: add_client_monitoring, rm_client_monitoring and
// get_client_monitoring, bound to the manager the provider returns (its
// table is Of(manager)). The permissions are Velociraptor's: changing
// what clients run is COLLECT_CLIENT, reading the table READ_RESULTS.
func Functions(provider queues.Provider) []vql.Function {
	return []vql.Function{addFunction(provider), rmFunction(provider), getFunction(provider)}
}

// Plugins are the VQL plugins of client monitoring: client_monitoring_logs.
func Plugins(provider queues.Provider) []vql.Plugin {
	return []vql.Plugin{logsPlugin(provider)}
}

// open returns the manager's table, or logs why there is none.
func open(provider queues.Provider, scope *vql.Scope, name string) *Service {
	m, err := provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil
	}
	return Of(m)
}

func addFunction(provider queues.Provider) vql.Function {
	const name = "add_client_monitoring"
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermCollectClient},
			Doc:         "Add a CLIENT_EVENT artifact to the client event table of the org, for every client or for the clients with a label; the same artifact and label again replaces its parameters. Clients start its sources and send their rows to its queue. Returns TRUE.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The CLIENT_EVENT artifact clients run."},
				{Name: "parameters", Type: vql.TypeDict, Doc: "Values of the artifact's parameters, as a dict (default: the artifact's defaults)."},
				{Name: "label", Type: vql.TypeString, Doc: "Only the clients with this label (default, or 'all': every client)."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			artifact := args.String("artifact", "")
			label := args.String("label", "")
			if args.Failed() {
				return nil
			}
			var params *ordereddict.Dict
			switch p := scope.Materialize(ctx, args.Value("parameters")).(type) {
			case nil:
			case *ordereddict.Dict:
				params = p
			default:
				scope.Errorf("%s: parameters must be a dict", name)
				return nil
			}
			s := open(provider, scope, name)
			if s == nil {
				return nil
			}
			e := Entry{Artifact: artifact, Parameters: params, Label: label}
			if err := s.AddBy(ctx, plugins.OrgOf(scope), plugins.SenderOf(scope).Principal, e); err != nil {
				scope.Errorf("%s: %v", name, err)
				return nil
			}
			return true
		},
	}
}

func rmFunction(provider queues.Provider) vql.Function {
	const name = "rm_client_monitoring"
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermCollectClient},
			Doc:         "Remove an artifact from the client event table of the org (from every client's group, or from a label's); clients stop its sources. Returns TRUE.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The artifact clients stop running."},
				{Name: "label", Type: vql.TypeString, Doc: "Remove it from this label's group (default, or 'all': every client's)."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			artifact := args.String("artifact", "")
			label := args.String("label", "")
			if args.Failed() {
				return nil
			}
			s := open(provider, scope, name)
			if s == nil {
				return nil
			}
			org := plugins.OrgOf(scope)
			ok, err := s.RemoveBy(ctx, org, plugins.SenderOf(scope).Principal, artifact, label)
			if err != nil {
				scope.Errorf("%s: %v", name, err)
				return nil
			}
			if !ok {
				scope.Errorf("%s: %s is not in the client event table of org %s%s", name, artifact, org, labelText(label))
				return nil
			}
			return true
		},
	}
}

// labelText names a label group in a message.
func labelText(label string) string {
	if l := normLabel(label); l != "" {
		return " for label " + l
	}
	return ""
}

func getFunction(provider queues.Provider) vql.Function {
	const name = "get_client_monitoring"
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermReadResults},
			Doc:         "The client event table of the org, in Velociraptor's shape: {version, artifacts: {artifacts: [names], specs: [{artifact, parameters: {env: [{key, value}]}}]}, label_events: [{label, artifacts: {artifacts, specs}}]}; artifacts are every client's.",
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			s := open(provider, scope, name)
			if s == nil {
				return nil
			}
			entries, version, err := s.snapshot(plugins.OrgOf(scope))
			if err != nil {
				scope.Errorf("%s: %v", name, err)
				return nil
			}
			return tableRow(entries, version)
		},
	}
}

// tableRow is Velociraptor's ClientEventTable for entries sorted by label
// (every client's first) then artifact.
func tableRow(entries []Entry, version int64) *ordereddict.Dict {
	all := newGroup()
	var labels []any
	var current *group
	var currentLabel string
	for _, e := range entries {
		if e.Label == "" {
			all.add(e)
			continue
		}
		if current == nil || !strings.EqualFold(currentLabel, e.Label) {
			if current != nil {
				labels = append(labels, ordereddict.NewDict().Set("label", currentLabel).Set("artifacts", current.row()))
			}
			current, currentLabel = newGroup(), e.Label
		}
		current.add(e)
	}
	if current != nil {
		labels = append(labels, ordereddict.NewDict().Set("label", currentLabel).Set("artifacts", current.row()))
	}
	if labels == nil {
		labels = []any{}
	}
	return ordereddict.NewDict().
		Set("version", version).
		Set("artifacts", all.row()).
		Set("label_events", labels)
}

// group is one label group's artifacts, as Velociraptor's ArtifactCollectorArgs.
type group struct{ names, specs []any }

func newGroup() *group { return &group{names: []any{}, specs: []any{}} }

func (g *group) add(e Entry) {
	g.names = append(g.names, e.Artifact)
	env := []any{}
	if e.Parameters != nil {
		for _, it := range e.Parameters.Items() {
			env = append(env, ordereddict.NewDict().Set("key", it.Key).Set("value", it.Value))
		}
	}
	g.specs = append(g.specs, ordereddict.NewDict().
		Set("artifact", e.Artifact).
		Set("parameters", ordereddict.NewDict().Set("env", env)))
}

func (g *group) row() *ordereddict.Dict {
	return ordereddict.NewDict().Set("artifacts", g.names).Set("specs", g.specs)
}

func logsPlugin(provider queues.Provider) vql.Plugin {
	const name = "client_monitoring_logs"
	return vql.PluginFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermReadResults},
			Doc:         "What clients reported of their client monitoring queries, one row per client and artifact: {client_id, artifact, state (running, restarting, stopped, error), error, time, messages (the last 100, oldest first)}. Kept in memory for the 10,000 clients of the org that reported last.",
			Args: []vql.ArgSpec{
				{Name: "client_id", Type: vql.TypeString, Doc: "Only this client (default: every client of the org)."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			id := args.String("client_id", "")
			if args.Failed() {
				return none
			}
			s := open(provider, scope, name)
			if s == nil {
				return none
			}
			rows := s.Logs(plugins.OrgOf(scope), id)
			return func(yield func(vql.Row) bool) {
				for _, r := range rows {
					msgs := make([]any, len(r.Messages))
					for i, m := range r.Messages {
						msgs[i] = m
					}
					row := ordereddict.NewDict().
						Set("client_id", r.ClientID).
						Set("artifact", r.Artifact).
						Set("state", r.State).
						Set("error", r.Error).
						Set("time", r.Time.UTC()).
						Set("messages", msgs)
					if ctx.Err() != nil || !yield(row) {
						return
					}
				}
			}
		},
	}
}

func none(func(vql.Row) bool) {}
