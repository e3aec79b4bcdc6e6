package monitoring

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/vql"
)

// Functions returns the VQL functions that manage the monitoring table of
// the query's org: add_server_monitoring, rm_server_monitoring and
// get_server_monitoring. The service is fetched at each call.
func Functions(provider func() (*Service, error)) []vql.Function {
	return []vql.Function{addFunction(provider), rmFunction(provider), getFunction(provider)}
}

// Plugins returns the VQL plugins of server monitoring: monitoring_logs.
func Plugins(provider func() (*Service, error)) []vql.Plugin {
	return []vql.Plugin{logsPlugin(provider)}
}

// service fetches the service, or logs why there is none.
func service(provider func() (*Service, error), scope *vql.Scope, name string) *Service {
	s, err := provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil
	}
	if s == nil {
		scope.Errorf("%s: server monitoring is not available", name)
	}
	return s
}

func addFunction(provider func() (*Service, error)) vql.Function {
	const name = "add_server_monitoring"
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermServerAdmin},
			Doc:         "Add a SERVER_EVENT artifact to the server monitoring table (or change its parameters); its sources run on the server and their rows go to its queue. Returns TRUE.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The SERVER_EVENT artifact to run."},
				{Name: "parameters", Type: vql.TypeDict, Doc: "Values of the artifact's parameters, as a dict (default: the artifact's defaults)."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			artifact := args.String("artifact", "")
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
			s := service(provider, scope, name)
			if s == nil {
				return nil
			}
			// The monitoring runs as the server: adding an artifact is
			// refused to whoever could not run it here.
			if a, ok := s.m.Repository().Get(plugins.OrgOf(scope), artifact); ok && !plugins.MayRun(scope, name+"(artifact="+artifact+")", a) {
				return nil
			}
			if err := s.Add(ctx, plugins.OrgOf(scope), artifact, params); err != nil {
				scope.Errorf("%s: %v", name, err)
				return nil
			}
			return true
		},
	}
}

func rmFunction(provider func() (*Service, error)) vql.Function {
	const name = "rm_server_monitoring"
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermServerAdmin},
			Doc:         "Remove an artifact from the server monitoring table and stop its queries. Returns TRUE.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The artifact to stop running."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			artifact := args.String("artifact", "")
			if args.Failed() {
				return nil
			}
			s := service(provider, scope, name)
			if s == nil {
				return nil
			}
			if err := s.Remove(ctx, plugins.OrgOf(scope), artifact); err != nil {
				scope.Errorf("%s: %v", name, err)
				return nil
			}
			return true
		},
	}
}

func getFunction(provider func() (*Service, error)) vql.Function {
	const name = "get_server_monitoring"
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name: name,
			// Parameters (webhook URLs, API keys) and errors that quote them
			// are the server's configuration, not results: admins only.
			Permissions: []vql.Permission{vql.PermServerAdmin},
			Doc:         "The server monitoring table of the current org: a list of {artifact, parameters, state, restarts, last_error, since}.",
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			s := service(provider, scope, name)
			if s == nil {
				return nil
			}
			out := []any{}
			for _, e := range s.List(plugins.OrgOf(scope)) {
				params := e.Parameters
				if params == nil {
					params = ordereddict.NewDict()
				}
				out = append(out, ordereddict.NewDict().
					Set("artifact", e.Artifact).
					Set("parameters", params).
					Set("state", e.State).
					Set("restarts", int64(e.Restarts)).
					Set("last_error", e.LastError).
					Set("since", e.Since.UTC()))
			}
			return out
		},
	}
}

func logsPlugin(provider func() (*Service, error)) vql.Plugin {
	const name = "monitoring_logs"
	return vql.PluginFunc{
		Meta: vql.Info{
			Name:        name,
			Permissions: []vql.Permission{vql.PermServerAdmin},
			Doc:         "The last messages of an artifact's server monitoring queries, oldest first: {time, level, message}.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "An artifact of the server monitoring table."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			artifact := args.String("artifact", "")
			if args.Failed() {
				return none
			}
			s := service(provider, scope, name)
			if s == nil {
				return none
			}
			org := plugins.OrgOf(scope)
			if !s.has(org, artifact) {
				scope.Errorf("%s: %s is not in the server monitoring table", name, artifact)
				return none
			}
			logs := s.Logs(org, artifact)
			return func(yield func(vql.Row) bool) {
				for _, m := range logs {
					if !yield(ordereddict.NewDict().Set("time", m.Time.UTC()).Set("level", m.Level).Set("message", m.Text)) {
						return
					}
				}
			}
		},
	}
}

func none(func(vql.Row) bool) {}

// has reports whether an artifact is in an org's table.
func (s *Service) has(org, artifact string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableLocked(org)
	if err != nil {
		return false
	}
	_, ok := t[artifact]
	return ok
}
