package functions

import (
	"context"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// serverMetadata reads the org's server metadata: the configuration
// Velociraptor's server artifacts take from it (tokens, URLs).
func serverMetadata(provider queues.Provider) vql.FunctionFunc {
	return needs(fn("server_metadata", "The org's server metadata: free-form key/value data (artifact configuration such as tokens), kept in the data folder.",
		nil, func(c call) any {
			m := manager(provider, c.scope, "server_metadata")
			if m == nil {
				return nil
			}
			md, err := m.ServerMetadata(plugins.OrgOf(c.scope))
			if err != nil {
				c.scope.Errorf("server_metadata: %v", err)
				return nil
			}
			return md
		}), vql.PermServerAdmin)
}

// serverSetMetadata changes the org's server metadata.
func serverSetMetadata(provider queues.Provider) vql.FunctionFunc {
	return needs(vql.FunctionFunc{
		Meta: vql.Info{Name: "server_set_metadata",
			Doc:      "Set keys of the org's server metadata (a NULL value deletes one); returns the metadata as it now is.",
			FreeArgs: true,
			Args:     []vql.ArgSpec{arg("metadata", vql.TypeDict, false, "The keys to set, as a dict; the other arguments are keys too.")}},
		Fn: func(ctx context.Context, scope *vql.Scope, a *vql.Args) any {
			changes := ordereddict.NewDict()
			for _, k := range a.Names() {
				if k != "metadata" {
					changes.Set(k, scope.Materialize(ctx, a.Value(k)))
				}
			}
			if a.Has("metadata") {
				d, ok := scope.Materialize(ctx, a.Value("metadata")).(*ordereddict.Dict)
				if !ok {
					scope.Errorf("server_set_metadata: Field metadata should be a dict")
					return nil
				}
				for _, item := range d.Items() {
					changes.Set(item.Key, item.Value)
				}
			}
			m := manager(provider, scope, "server_set_metadata")
			if m == nil {
				return nil
			}
			md, err := m.SetServerMetadata(plugins.OrgOf(scope), changes)
			if err != nil {
				scope.Errorf("server_set_metadata: %v", err)
				return nil
			}
			return md
		},
	}, vql.PermServerAdmin)
}
