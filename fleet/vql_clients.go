package fleet

import (
	"context"
	"errors"
	"iter"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// The queues the registry tells about its changes, as Velociraptor's
// services do: a deleted client (its flows and uploads go with it) and a
// label set or removed (client event tables follow labels).
const (
	ClientDeleteQueue = "Server.Internal.ClientDelete"
	LabelQueue        = "Server.Internal.Label"
)

func none(func(vql.Row) bool) {}

// open returns the manager and its registry, logging why not.
func open(provider queues.Provider, scope *vql.Scope, name string) (*queues.Manager, *Registry) {
	m, err := provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil, nil
	}
	return m, Of(m)
}

// serverRow is client_info("server"): Velociraptor's well-known client id
// for the server itself, which has no record.
func serverRow() *ordereddict.Dict {
	return (&Client{ClientID: ServerID}).Row()
}

// clientsPlugin lists the org's clients.
func clientsPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: "clients",
			Doc:  "The org's enrolled clients, as client_info() shows each; search as Velociraptor's search bar (all, label:X, host:X, client:X, ip:X, an id or hostname; '*' a wildcard, else a prefix).",
			Args: []vql.ArgSpec{
				{Name: "search", Type: vql.TypeString, Doc: "The search expression (default all)."},
				{Name: "start", Type: vql.TypeInt, Doc: "Skip this many matching clients (by client id)."},
				{Name: "count", Type: vql.TypeInt, Doc: "Return at most this many (default: all)."},
				{Name: "limit", Type: vql.TypeInt, Doc: "The same as count (Velociraptor's older name)."},
				{Name: "client_id", Type: vql.TypeString, Doc: "Only this client (no search)."},
			},
			Permissions: []vql.Permission{vql.PermReadResults},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			search := args.String("search", "")
			start := args.Int("start", 0)
			count := args.Int("count", args.Int("limit", 0))
			id := args.String("client_id", "")
			if args.Failed() {
				return none
			}
			if start < 0 || count < 0 {
				scope.Errorf("clients: start and count must not be negative")
				return none
			}
			_, reg := open(provider, scope, "clients")
			if reg == nil {
				return none
			}
			org := plugins.OrgOf(scope)
			return func(yield func(vql.Row) bool) {
				if id != "" {
					if id == ServerID {
						yield(serverRow())
						return
					}
					c, found, err := reg.Get(org, id)
					if err != nil {
						scope.Errorf("clients: %v", err)
					} else if found {
						yield(c.Row())
					}
					return
				}
				list, err := reg.List(org, search)
				if err != nil {
					scope.Errorf("clients: %v", err)
					return
				}
				list = list[min(int(start), len(list)):]
				if count > 0 {
					list = list[:min(int(count), len(list))]
				}
				for _, c := range list {
					if ctx.Err() != nil || !yield(c.Row()) {
						return
					}
				}
			}
		},
	}
}

// clientInfo is one client's record, for enriching rows that carry a
// client id.
func clientInfo(provider queues.Provider) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        "client_info",
			Doc:         "A client's record (client_id, os_info{hostname, fqdn, system, release, machine}, agent_information, first_seen_at, last_seen_at, last_ip, labels, connected); NULL for a client the org does not know. client_id='server' is the server itself.",
			Args:        []vql.ArgSpec{{Name: "client_id", Type: vql.TypeString, Required: true, Doc: "The client."}},
			Permissions: []vql.Permission{vql.PermReadResults},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			id := args.String("client_id", "")
			if args.Failed() {
				return nil
			}
			if id == ServerID {
				return serverRow()
			}
			if !strings.HasPrefix(id, "C.") {
				scope.Errorf("client_info: client_id %q: a client id starts with C. (or is 'server')", id)
				return nil
			}
			_, reg := open(provider, scope, "client_info")
			if reg == nil {
				return nil
			}
			org := plugins.OrgOf(scope)
			c, found, err := reg.Get(org, id)
			switch {
			case err != nil:
				scope.Errorf("client_info: %v", err)
				return nil
			case !found:
				scope.Log(vql.LevelWarn, "client_info: org %s has no client %s", org, id)
				return nil
			}
			return c.Row()
		},
	}
}

// labelFunction sets, removes or checks labels of a client.
func labelFunction(provider queues.Provider) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name: "label",
			Doc:  "Set (op='set', the default), remove (op='remove') or check (op='check') labels of a client; returns {ClientId, Labels, Op}, or FALSE when a checked label is missing.",
			Args: []vql.ArgSpec{
				{Name: "client_id", Type: vql.TypeString, Required: true, Doc: "The client."},
				{Name: "labels", Type: vql.TypeList, Required: true, Doc: "The labels (a string is one)."},
				{Name: "op", Type: vql.TypeString, Doc: "set, remove or check."},
			},
			Permissions: []vql.Permission{vql.PermLabelClient},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			id := args.String("client_id", "")
			labels := args.Strings("labels")
			op := strings.ToLower(args.String("op", "set"))
			if args.Failed() {
				return nil
			}
			if op != "set" && op != "remove" && op != "check" {
				scope.Errorf("label: op %q: use set, remove or check", op)
				return nil
			}
			m, reg := open(provider, scope, "label")
			if reg == nil {
				return nil
			}
			org := plugins.OrgOf(scope)
			var c *Client
			var err error
			switch op {
			case "set":
				c, err = reg.AddLabels(org, id, labels)
			case "remove":
				c, err = reg.RemoveLabels(org, id, labels)
			case "check":
				var found bool
				c, found, err = reg.Get(org, id)
				if err == nil && !found {
					err = errors.New("no such client " + id + " in org " + org)
				}
			}
			if err != nil {
				scope.Errorf("label: %v", err)
				return nil
			}
			list := make([]any, len(labels))
			for i, l := range labels {
				list[i] = l
				if op == "check" && !c.HasLabel(l) {
					return false
				}
			}
			if op != "check" {
				operation := map[string]string{"set": "Add", "remove": "Remove"}[op]
				for _, l := range labels {
					_, err := m.Send(context.WithoutCancel(ctx), org, LabelQueue, ordereddict.NewDict().
						Set("ClientId", id).Set("Operation", operation).Set("Label", l),
						queues.Sender{Principal: plugins.SenderOf(scope).Principal, Internal: true})
					if err != nil {
						scope.Log(vql.LevelWarn, "label: %s: %v", LabelQueue, err)
						break
					}
				}
			}
			return ordereddict.NewDict().Set("ClientId", id).Set("Labels", list).Set("Op", op)
		},
	}
}

// clientDelete forgets a client: its record and what is pending for it.
// Without really_do_it it only lists what it would delete.
func clientDelete(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: "client_delete",
			Doc:  "Delete a client's record and pending requests (a dry run unless really_do_it); a row {client_id, type, vfs_path, error} for each thing deleted, or that would be. A deletion is audited and sent to Server.Internal.ClientDelete.",
			Args: []vql.ArgSpec{
				{Name: "client_id", Type: vql.TypeString, Required: true, Doc: "The client (C.<hex>)."},
				{Name: "really_do_it", Type: vql.TypeBool, Doc: "Delete; without it, only report what would be deleted."},
			},
			Permissions: []vql.Permission{vql.PermServerAdmin, vql.PermDeleteResults},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			id := args.String("client_id", "")
			really := args.Bool("really_do_it", false)
			if args.Failed() {
				return none
			}
			if !strings.HasPrefix(id, "C.") || len(id) < 3 {
				scope.Errorf("client_delete: Client Id '%s' should be of the form C.XXXX", id)
				return none
			}
			m, reg := open(provider, scope, "client_delete")
			if reg == nil {
				return none
			}
			org := plugins.OrgOf(scope)
			principal := plugins.SenderOf(scope).Principal
			return func(yield func(vql.Row) bool) {
				found, err := reg.Exists(org, id)
				if err != nil {
					scope.Errorf("client_delete: %v", err)
					return
				}
				if !found {
					scope.Errorf("client_delete: org %s has no client %s", org, id)
					return
				}
				items := []struct{ kind, key string }{{"client", clientKey(org, id)}}
				if _, pending, _ := reg.kv.Get(killKey(org, id)); pending {
					items = append(items, struct{ kind, key string }{"kill_request", killKey(org, id)})
				}
				var failure any
				if really {
					if _, err := reg.Delete(org, id); err != nil {
						failure = err.Error()
					}
				} else {
					scope.Log(vql.LevelInfo, "client_delete: dry run: nothing deleted; really_do_it=TRUE deletes client %s", id)
				}
				for _, it := range items {
					if !yield(ordereddict.NewDict().Set("client_id", id).Set("type", it.kind).
						Set("vfs_path", it.key).Set("error", failure)) {
						break
					}
				}
				if !really || failure != nil {
					return
				}
				bg := context.WithoutCancel(ctx)
				_ = m.Audit(bg, org, "client_delete", principal, ordereddict.NewDict().
					Set("client_id", id).Set("org_id", org))
				if _, err := m.Send(bg, org, ClientDeleteQueue, ordereddict.NewDict().
					Set("ClientId", id).Set("OrgId", org).Set("Principal", principal),
					queues.Sender{Principal: principal, Internal: true}); err != nil {
					scope.Log(vql.LevelWarn, "client_delete: %s: %v", ClientDeleteQueue, err)
				}
			}
		},
	}
}

// killFunction asks a client's process to exit; the request waits for the
// client's connection to deliver it.
func killFunction(provider queues.Provider) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:        "killkillkill",
			Doc:         "Ask a client's process to exit (its service manager restarts it): the request is kept until the client next connects. Returns the client id; an unknown client is an error.",
			Args:        []vql.ArgSpec{{Name: "client_id", Type: vql.TypeString, Required: true, Doc: "The client."}},
			Permissions: []vql.Permission{vql.PermMachineState},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			id := args.String("client_id", "")
			if args.Failed() {
				return nil
			}
			m, reg := open(provider, scope, "killkillkill")
			if reg == nil {
				return nil
			}
			org := plugins.OrgOf(scope)
			principal := plugins.SenderOf(scope).Principal
			k, err := reg.RequestKill(org, id, principal)
			if err != nil {
				scope.Errorf("killkillkill: %v", err)
				return nil
			}
			_ = m.Audit(context.WithoutCancel(ctx), org, "killkillkill", principal, ordereddict.NewDict().
				Set("client_id", id).Set("requested", k.Requested))
			return id
		},
	}
}
