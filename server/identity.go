package server

import (
	"context"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// rolePermissions are the permissions of each role: the roles are named
// presets of Velociraptor's permissions. An admin holds them all.
var rolePermissions = map[string][]vql.Permission{
	RoleReader:    {vql.PermReadResults},
	RolePublisher: {vql.PermPublish},
}

// identity is who a caller's queries act for: fixed here, from the token
// (or the socket), and never from anything in the query.
func (c *caller) identity() vql.Identity {
	if c.local {
		return vql.Identity{Org: c.org, Principal: queues.ServerSender.Principal, Role: "owner", All: true, AllOrgs: true}
	}
	t := c.token
	return vql.Identity{
		Org: t.Org, Principal: t.Name, Role: t.Role,
		All:     t.Role == RoleAdmin,
		AllOrgs: t.Role == RoleAdmin && t.Org == queues.DefaultOrg,
		Granted: rolePermissions[t.Role],
	}
}

// auditDenied records, in the org's Server.Audit.Logs, a call a query was
// refused for lack of a permission, as HTTP refusals are.
func (s *Server) auditDenied(c *caller) func(vql.Denial) {
	return func(d vql.Denial) {
		_ = s.opts.Manager.Audit(context.Background(), c.identity().Org, "refused", c.principal(), ordereddict.NewDict().
			Set("call", d.Call).Set("permission", string(d.Permission)).Set("query", d.Query).
			Set("reason", d.Call+": permission denied: lacks "+string(d.Permission)))
	}
}
