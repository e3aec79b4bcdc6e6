package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// orgsPlugin lists the orgs the session may see: every org for the data
// folder's owner and the default org's admins, its own org for anyone
// else. Listing never creates an org.
func orgsPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "orgs", Doc: "The orgs this session may see: {OrgId, Name}. Every org for the folder's owner and admins of the root org; otherwise the session's own."},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			own := OrgOf(scope)
			if !scope.Identity().AllOrgs {
				m, err := provider()
				if err != nil {
					m = nil // without a store the org has no name but its id
				}
				return orgRows(m, []string{own})
			}
			return withManager(provider, scope, "orgs", func(m *queues.Manager) iter.Seq[vql.Row] {
				return orgRows(m, m.Orgs())
			})
		},
	}
}

func orgRows(m *queues.Manager, ids []string) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		for _, id := range ids {
			if !yield(OrgRow(m, id)) {
				return
			}
		}
	}
}

// OrgRow describes an org as orgs() and org() show it: its name is the
// one org_create() gave it, else (or with no manager) its id.
func OrgRow(m *queues.Manager, id string) *ordereddict.Dict {
	name := id
	if m != nil {
		name = m.OrgName(id)
	}
	return ordereddict.NewDict().Set("OrgId", id).Set("Name", name)
}
