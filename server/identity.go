package server

import (
	"context"
	"net/http"
	"sync"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// maxDeniedAudits bounds the refusals one session records.
const maxDeniedAudits = 100

// has reports whether the caller holds a permission: the socket and
// admins hold every one, a token those of its set.
func (c *caller) has(p vql.Permission) bool { return c.identity().Has(p) }

// identity is who a caller's queries act for: fixed here, from the token
// (or the socket), and never from anything in the query.
func (c *caller) identity() vql.Identity {
	if c.local {
		return vql.Identity{Org: c.org, Principal: queues.ServerSender.Principal, Role: "owner", All: true, AllOrgs: true, Denied: c.deny}
	}
	t := c.token
	return vql.Identity{
		Org: t.Org, Principal: t.Name, Role: t.Role,
		All:     t.Role == RoleAdmin,
		AllOrgs: t.Role == RoleAdmin && t.Org == queues.DefaultOrg,
		Granted: t.PermissionSet(),
		Denied:  c.deny,
	}
}

// auditDenied records, in the org's Server.Audit.Logs, a call a query was
// refused for lack of a permission, as HTTP refusals are, with the query's
// text (its secret-looking arguments hidden: parser.Redacted). A query that
// makes the same refused call for each of a million rows is recorded once
// per statement and call, and a session records at most maxDeniedAudits:
// a reader cannot fill the disk with its own refusals: across sessions, the
// rows of one token are within the audit rate of one address, the rest
// counted and summarised as refusals over HTTP are.
func (s *Server) auditDenied(c *caller) func(vql.Denial) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(d vql.Denial) {
		key := d.Query + "\x00" + d.Call
		mu.Lock()
		skip := seen[key] || len(seen) >= maxDeniedAudits
		if !skip {
			seen[key] = true
		}
		mu.Unlock()
		if skip || !s.refusals.limiter.allow("principal "+sessionOwner(c), c.identity().Org, http.StatusForbidden) {
			return
		}
		_ = s.opts.Manager.Audit(context.Background(), c.identity().Org, "refused", c.principal(), ordereddict.NewDict().
			Set("call", d.Call).Set("permission", string(d.Permission)).Set("query", clip(parser.Redacted(d.Query), 4*auditClip)).
			Set("reason", d.Call+": permission denied: lacks "+string(d.Permission)))
	}
}
