package fleet

import (
	"context"
	"crypto/rand"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// policyName is a permission's name in Velociraptor's effective_policy
// dict (its ACL's JSON fields).
func policyName(p vql.Permission) string {
	if p == vql.PermLabelClient {
		return "label_clients"
	}
	return strings.ToLower(string(p))
}

// principalRow is one principal in one org, as Velociraptor's gui_users()
// lists a user: name, org_id, picture, email, roles, effective_policy.
func principalRow(p Principal) *ordereddict.Dict {
	roles := make([]any, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = r
	}
	policy := ordereddict.NewDict()
	for _, perm := range p.Permissions {
		policy.Set(policyName(perm), true)
	}
	return ordereddict.NewDict().Set("name", p.Name).Set("org_id", p.Org).
		Set("picture", "").Set("email", "").Set("roles", roles).Set("effective_policy", policy)
}

// guiUsers lists the principals: the names that hold tokens and the users
// user_create() recorded, with their roles and permissions.
func guiUsers(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: "gui_users",
			Doc:  "The principals of the org (names holding API tokens, and users recorded by user_create): {name, org_id, picture, email, roles, effective_policy}. all_orgs=TRUE lists every org's, for a session that sees every org.",
			Args: []vql.ArgSpec{
				{Name: "all_orgs", Type: vql.TypeBool, Doc: "Every org's principals (only for the folder's owner and the root org's admins; others get their org's)."},
			},
			Permissions: []vql.Permission{vql.PermServerAdmin},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			all := args.Bool("all_orgs", false) && scope.Identity().AllOrgs
			if args.Failed() {
				return none
			}
			m, _ := open(provider, scope, "gui_users")
			if m == nil {
				return none
			}
			org := plugins.OrgOf(scope)
			return func(yield func(vql.Row) bool) {
				list, err := Principals(m.Storage(), time.Now())
				if err != nil {
					scope.Errorf("gui_users: %v", err)
					return
				}
				for _, p := range list {
					if !all && p.Org != org {
						continue
					}
					if !yield(principalRow(p)) {
						return
					}
				}
			}
		},
	}
}

// mayReachOrgs checks that a session may act in orgs: its own always,
// another only for a session that sees every org.
func mayReachOrgs(scope *vql.Scope, call string, orgs []string) bool {
	own := plugins.OrgOf(scope)
	for _, o := range orgs {
		if o != own && !scope.Identity().AllOrgs {
			scope.Errorf("%s: org %s is not this session's (%s): only the data folder's owner and the root org's admins act in other orgs", call, o, own)
			return false
		}
	}
	return true
}

// userCreate records a user with roles in orgs.
func userCreate(provider queues.Provider) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name: "user_create",
			Doc:  "Record a user with roles in one or more orgs (added to the roles it has); returns the user's name. vqlq's principals authenticate with API tokens: a password is not kept.",
			Args: []vql.ArgSpec{
				{Name: "user", Type: vql.TypeString, Required: true, Doc: "The user's name (the name its tokens carry)."},
				{Name: "roles", Type: vql.TypeList, Required: true, Doc: "The roles: administrator, org_admin, reader, api, analyst, investigator, artifact_writer, admin, publisher, metrics."},
				{Name: "password", Type: vql.TypeString, Doc: "Not kept: vqlq authenticates with tokens (vqlq token create)."},
				{Name: "orgs", Type: vql.TypeList, Doc: "The orgs to grant the roles in (default: this session's)."},
			},
			Permissions: []vql.Permission{vql.PermServerAdmin},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			name := args.String("user", "")
			roles := args.Strings("roles")
			orgs := args.Strings("orgs")
			password := args.String("password", "")
			if args.Failed() {
				return nil
			}
			if len(orgs) == 0 {
				orgs = []string{plugins.OrgOf(scope)}
			}
			if IsReserved(name) {
				scope.Log(vql.LevelInfo, "user_create: %s is the server itself, which holds every permission in every org: nothing to record", name)
				return name
			}
			if err := CheckUserName(name); err != nil {
				scope.Errorf("user_create: user: %v", err)
				return nil
			}
			if err := CheckRoles(roles); err != nil {
				scope.Errorf("user_create: roles: %v", err)
				return nil
			}
			if !mayReachOrgs(scope, "user_create", orgs) {
				return nil
			}
			m, _ := open(provider, scope, "user_create")
			if m == nil {
				return nil
			}
			known := m.Orgs()
			for _, o := range orgs {
				if err := queues.CheckOrg(o); err != nil {
					scope.Errorf("user_create: orgs: %v", err)
					return nil
				}
				if !slices.Contains(known, o) {
					scope.Errorf("user_create: orgs: there is no org %s (org_create makes one)", o)
					return nil
				}
			}
			if password != "" {
				scope.Log(vql.LevelWarn, "user_create: the password is not kept: vqlq principals authenticate with API tokens (vqlq token create --name %s)", name)
			}
			principal := plugins.SenderOf(scope).Principal
			if _, err := GrantUser(m.Storage(), name, roles, orgs, principal, time.Now()); err != nil {
				scope.Errorf("user_create: %v", err)
				return nil
			}
			_ = m.Audit(context.WithoutCancel(ctx), plugins.OrgOf(scope), "user_create", principal, ordereddict.NewDict().
				Set("username", name).Set("roles", anyList(roles)).Set("org_ids", anyList(orgs)))
			return name
		},
	}
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// mayActFor checks that the session acts for user, or is an admin.
func mayActFor(scope *vql.Scope, call, user string) bool {
	if user == plugins.SenderOf(scope).Principal {
		return true
	}
	return scope.Require(call, vql.PermServerAdmin)
}

// userOptions reads, and with arguments sets, a user's options.
func userOptions(provider queues.Provider) vql.Function {
	spec := []vql.ArgSpec{{Name: "user", Type: vql.TypeString, Required: true, Doc: "The user (another than this session's needs SERVER_ADMIN)."}}
	for _, n := range OptionNames {
		t := vql.TypeString
		if n == "links" {
			t = vql.TypeAny
		}
		spec = append(spec, vql.ArgSpec{Name: n, Type: t, Doc: "Set the user's " + strings.ReplaceAll(n, "_", " ") + "."})
	}
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name: "user_options",
			Doc:  "A user's options (theme, timezone, lang, org, links, default_password); the options given are set first.",
			Args: spec,
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			user := args.String("user", "")
			changes := ordereddict.NewDict()
			for _, n := range OptionNames {
				if !args.Has(n) {
					continue
				}
				if n == "links" {
					changes.Set(n, scope.Materialize(ctx, args.Value(n)))
				} else if v := args.String(n, ""); v != "" {
					changes.Set(n, v)
				}
			}
			if args.Failed() {
				return nil
			}
			if user == "" {
				scope.Errorf("user_options: user is empty: name the user")
				return nil
			}
			if !mayActFor(scope, "user_options", user) {
				return nil
			}
			m, _ := open(provider, scope, "user_options")
			if m == nil {
				return nil
			}
			if changes.Len() == 0 {
				opts, err := UserOptions(m.Storage(), user)
				if err != nil {
					scope.Errorf("user_options: %v", err)
					return nil
				}
				return opts
			}
			opts, err := SetUserOptions(m.Storage(), user, changes)
			if err != nil {
				scope.Errorf("user_options: %v", err)
				return nil
			}
			names := make([]any, 0, changes.Len())
			for _, k := range changes.Keys() {
				names = append(names, k)
			}
			_ = m.Audit(context.WithoutCancel(ctx), plugins.OrgOf(scope), "user_options", plugins.SenderOf(scope).Principal,
				ordereddict.NewDict().Set("username", user).Set("set", names))
			return opts
		},
	}
}

// userMessage leaves a message for a user of the org.
func userMessage(provider queues.Provider) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:     "user_message",
			Doc:      "Leave a message for a principal of the org (read with user_messages()); the message is message=, else the other arguments. Returns the user's name.",
			FreeArgs: true,
			Args: []vql.ArgSpec{
				{Name: "user", Type: vql.TypeString, Required: true, Doc: "The principal (a name gui_users() lists)."},
				{Name: "message", Type: vql.TypeDict, Doc: "The message; without it, the other arguments are."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			user := args.String("user", "")
			if args.Failed() {
				return nil
			}
			var msg *ordereddict.Dict
			if args.Has("message") {
				d, ok := scope.Materialize(ctx, args.Value("message")).(*ordereddict.Dict)
				if !ok {
					scope.Errorf("user_message: Field message should be a dict")
					return nil
				}
				msg = d
			} else {
				msg = ordereddict.NewDict()
				for _, k := range args.Names() {
					if k != "user" {
						msg.Set(k, scope.Materialize(ctx, args.Value(k)))
					}
				}
			}
			m, _ := open(provider, scope, "user_message")
			if m == nil {
				return nil
			}
			org := plugins.OrgOf(scope)
			known, err := KnownIn(m.Storage(), user, org, time.Now())
			if err != nil {
				scope.Errorf("user_message: %v", err)
				return nil
			}
			if !known {
				scope.Errorf("user_message: org %s has no principal %q (gui_users() lists them)", org, user)
				return nil
			}
			if err := PostMessage(m.Storage(), org, user, plugins.SenderOf(scope).Principal, msg, time.Now()); err != nil {
				scope.Errorf("user_message: %v", err)
				return nil
			}
			return user
		},
	}
}

// userMessages reads a user's messages.
func userMessages(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: "user_messages",
			Doc:  "The messages left for this session's principal (or user=, which needs SERVER_ADMIN) in the org: {timestamp, sender, message}, oldest first; clear=TRUE deletes them once read.",
			Args: []vql.ArgSpec{
				{Name: "user", Type: vql.TypeString, Doc: "Another principal's messages (needs SERVER_ADMIN)."},
				{Name: "clear", Type: vql.TypeBool, Doc: "Delete the messages read."},
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			user := args.String("user", plugins.SenderOf(scope).Principal)
			clear := args.Bool("clear", false)
			if args.Failed() || !mayActFor(scope, "user_messages", user) {
				return none
			}
			m, _ := open(provider, scope, "user_messages")
			if m == nil {
				return none
			}
			return func(yield func(vql.Row) bool) {
				rows, err := Messages(m.Storage(), plugins.OrgOf(scope), user, clear)
				if err != nil {
					scope.Errorf("user_messages: %v", err)
				}
				for _, r := range rows {
					if !yield(r) {
						return
					}
				}
			}
		},
	}
}

// newOrgID makes an org id as Velociraptor's look: O and a few random
// letters and digits.
func newOrgID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "O" + string(b)
}

// orgCreate creates an org with a name.
func orgCreate(provider queues.Provider) vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name: "org_create",
			Doc:  "Create an org with a name (orgs() and org() show it); returns {name, id}. Only the data folder's owner and the root org's admins create orgs.",
			Args: []vql.ArgSpec{
				{Name: "name", Type: vql.TypeString, Required: true, Doc: "The org's name."},
				{Name: "org_id", Type: vql.TypeString, Doc: "Its id (default: a random one, O and 5 letters or digits)."},
			},
			Permissions: []vql.Permission{vql.PermOrgAdmin, vql.PermServerAdmin},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			name := strings.TrimSpace(args.String("name", ""))
			id := args.String("org_id", "")
			if args.Failed() {
				return nil
			}
			if name == "" {
				scope.Errorf("org_create: name is empty: an org needs a name")
				return nil
			}
			if !scope.Identity().AllOrgs {
				scope.Errorf("org_create: only the data folder's owner and the root org's admins create orgs; this session acts in org %s", plugins.OrgOf(scope))
				return nil
			}
			m, _ := open(provider, scope, "org_create")
			if m == nil {
				return nil
			}
			given := id != ""
			var rec queues.OrgRecord
			var err error
			for range 5 { // a random id may, rarely, be taken
				if !given {
					id = newOrgID()
				}
				if rec, err = m.CreateOrg(id, name); err == nil || given {
					break
				}
			}
			if err != nil {
				scope.Errorf("org_create: org_id: %v", err)
				return nil
			}
			_ = m.Audit(context.WithoutCancel(ctx), plugins.OrgOf(scope), "org_create", plugins.SenderOf(scope).Principal,
				ordereddict.NewDict().Set("name", rec.Name).Set("org_id", rec.ID))
			return ordereddict.NewDict().Set("name", rec.Name).Set("id", rec.ID)
		},
	}
}
