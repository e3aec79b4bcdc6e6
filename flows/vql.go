package flows

import (
	"context"
	"iter"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// call is one invocation of a plugin or function of this package, with
// the manager and the session's org at hand.
type call struct {
	ctx   context.Context
	scope *vql.Scope
	args  *vql.Args
	m     *queues.Manager
	org   string
	name  string
}

// errorf logs `name: problem` as an error of the query.
func (c *call) errorf(format string, args ...any) {
	c.scope.Errorf(c.name+": "+format, args...)
}

// begin reads the manager, or logs why there is none.
func (s *Service) begin(ctx context.Context, scope *vql.Scope, args *vql.Args, name string) (*call, bool) {
	if args.Failed() {
		return nil, false
	}
	m, err := s.provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil, false
	}
	return &call{ctx: ctx, scope: scope, args: args, m: m, org: plugins.OrgOf(scope), name: name}, true
}

func (s *Service) function(name, doc string, perms []vql.Permission, args []vql.ArgSpec, body func(c *call) any) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{Name: name, Doc: doc, Args: args, Permissions: perms},
		Fn: func(ctx context.Context, scope *vql.Scope, a *vql.Args) any {
			c, ok := s.begin(ctx, scope, a, name)
			if !ok {
				return nil
			}
			return body(c)
		},
	}
}

func (s *Service) plugin(name, doc string, perms []vql.Permission, args []vql.ArgSpec, body func(c *call) iter.Seq[vql.Row]) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: name, Doc: doc, Args: args, Permissions: perms},
		Fn: func(ctx context.Context, scope *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
			c, ok := s.begin(ctx, scope, a, name)
			if !ok {
				return func(func(vql.Row) bool) {}
			}
			return body(c)
		},
	}
}

func arg(name string, t vql.ArgType, required bool, doc string) vql.ArgSpec {
	return vql.ArgSpec{Name: name, Type: t, Required: required, Doc: doc}
}

func none(func(vql.Row) bool) {}

// Plugins are the plugins over flows and hunts. queueSource is the
// source() plugin of the event queues, which the one returned here
// extends to flows and clients (see sourcePlugin).
func (s *Service) Plugins(queueSource vql.Plugin) []vql.Plugin {
	return []vql.Plugin{
		s.flowsPlugin(), s.deleteFlowPlugin(), s.sourcePlugin(queueSource),
		s.huntsPlugin(), s.huntFlowsPlugin(), s.huntDeletePlugin(), s.huntResultsPlugin(),
	}
}

// Functions are the functions over flows, hunts and the file store.
func (s *Service) Functions() []vql.Function {
	return []vql.Function{
		s.collectClient(), s.getFlow(), s.cancelFlow(),
		s.huntFunction(), s.huntAdd(), s.huntUpdate(),
		s.createFlowDownload(), s.createHuntDownload(),
		s.fileStoreFunction(), s.fileStoreDelete(),
	}
}

// orgScope is the org a call acts in: the session's, or with org_id=
// another one — crossing orgs is the root org's admins' alone, as for
// query(org_id=).
func orgScope(c *call, target string) (*vql.Scope, string, bool) {
	if target == "" || target == c.org {
		return c.scope, c.org, true
	}
	if err := queues.CheckOrg(target); err != nil {
		c.errorf("org_id: %v", err)
		return nil, "", false
	}
	if !c.scope.Require(c.name, vql.PermServerAdmin) {
		return nil, "", false
	}
	id := c.scope.Identity()
	if !id.AllOrgs {
		c.errorf("org_id=%s: only an admin of the root org may act in another org", target)
		return nil, "", false
	}
	id.Org = target
	return c.scope.WithIdentity(id), target, true
}

// flowPermission is what acting on a flow needs, as Velociraptor asks:
// COLLECT_SERVER for the server's, COLLECT_CLIENT for a client's.
func flowPermission(client string) vql.Permission {
	if client == ServerID {
		return vql.PermCollectServer
	}
	return vql.PermCollectClient
}

// principal is who acts, for records and the audit log.
func principal(scope *vql.Scope) string { return plugins.SenderOf(scope).Principal }

// audit records an action in Server.Audit.Logs.
func (c *call) audit(operation string, details ...any) {
	d := dictOf(details...)
	if err := c.m.Audit(context.WithoutCancel(c.ctx), c.org, operation, principal(c.scope), d); err != nil {
		c.errorf("audit: %v", err)
	}
}
