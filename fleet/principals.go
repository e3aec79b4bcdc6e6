package fleet

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// vqlq's principals are who acts in a query: the API tokens' names (each
// token belongs to one org and has a role and permissions), and the users
// user_create() records with roles per org. A user record grants nothing
// by itself — a query's permissions come from its session's token — but it
// is what gui_users() lists and what a token for that name is meant to
// carry, as Velociraptor's user records are.

// Roles lists the roles a principal may be given: Velociraptor's
// (administrator, org_admin, reader, api, analyst, investigator,
// artifact_writer) and vqlq's token roles (admin, publisher, metrics).
// "reader" is vqlq's reader preset, which also runs queries (ANY_QUERY).
var Roles = map[string][]vql.Permission{
	"administrator": administrator,
	"admin":         vql.AllPermissions,
	"org_admin":     {vql.PermOrgAdmin},
	"reader":        {vql.PermReadResults, vql.PermAnyQuery},
	"api":           {vql.PermAnyQuery, vql.PermReadResults},
	"analyst": {vql.PermReadResults, vql.PermNotebookEditor, vql.PermLabelClient,
		vql.PermAnyQuery, vql.PermPrepareResults},
	"investigator": {vql.PermReadResults, vql.PermNotebookEditor, vql.PermCollectClient,
		vql.PermLabelClient, vql.PermAnyQuery, vql.PermPrepareResults},
	"artifact_writer": {vql.PermArtifactWriter},
	"publisher":       {vql.PermPublish},
	"metrics":         {},
}

// administrator holds every permission but ORG_ADMIN, which only an
// administrator of the root org has (rolePermissions).
var administrator = slices.DeleteFunc(slices.Clone(vql.AllPermissions), func(p vql.Permission) bool { return p == vql.PermOrgAdmin })

// RoleNames lists Roles, sorted, for messages.
func RoleNames() []string {
	out := make([]string, 0, len(Roles))
	for r := range Roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// CheckRoles validates role names.
func CheckRoles(roles []string) error {
	if len(roles) == 0 {
		return fmt.Errorf("roles is empty: give one or more of %s", strings.Join(RoleNames(), ", "))
	}
	for _, r := range roles {
		if _, ok := Roles[r]; !ok {
			return fmt.Errorf("unknown role %q: the roles are %s", r, strings.Join(RoleNames(), ", "))
		}
	}
	return nil
}

// rolePermissions is what the roles stand for in an org.
func rolePermissions(org string, roles []string) []vql.Permission {
	var out []vql.Permission
	for _, r := range roles {
		perms := Roles[r]
		if r == "administrator" && org == queues.DefaultOrg {
			perms = vql.AllPermissions
		}
		for _, p := range perms {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// userNamePattern is the token names' alphabet (server.CheckTokenName):
// a user is meant to hold tokens of its name.
var userNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// reservedNames are the principals the server is itself (server.ReservedNames).
var reservedNames = []string{"server", "local", "anonymous", "system", "vqlq"}

// IsReserved reports whether name is one of the server's own principals.
func IsReserved(name string) bool {
	return slices.ContainsFunc(reservedNames, func(r string) bool { return strings.EqualFold(r, name) })
}

// CheckUserName validates a user's name.
func CheckUserName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("user is empty: name the user")
	case !userNamePattern.MatchString(name):
		return fmt.Errorf("invalid user name %q: 1 to 64 letters, digits, '_', '-' and '.' (the names tokens may have)", name)
	case IsReserved(name):
		return fmt.Errorf("user name %q is reserved: the server uses %s itself", name, strings.Join(reservedNames, ", "))
	}
	return nil
}

// User is a recorded user: its roles in each org it may work in.
type User struct {
	Name    string              `json:"name"`
	Roles   map[string][]string `json:"roles"` // org → roles
	Created time.Time           `json:"created"`
	Creator string              `json:"creator,omitempty"`
}

const userPrefix = "users/"

// userMu serialises the changes to user records.
var userMu sync.Mutex

// GrantUser records that name has roles in each of orgs (added to the
// roles it had there), creating the user when it is new.
func GrantUser(kv artifacts.Storage, name string, roles, orgs []string, creator string, now time.Time) (*User, error) {
	if err := CheckUserName(name); err != nil {
		return nil, err
	}
	if err := CheckRoles(roles); err != nil {
		return nil, err
	}
	userMu.Lock()
	defer userMu.Unlock()
	u, found, err := GetUser(kv, name)
	if err != nil {
		return nil, err
	}
	if !found {
		u = &User{Name: name, Roles: map[string][]string{}, Created: now.UTC(), Creator: creator}
	}
	for _, org := range orgs {
		have := u.Roles[org]
		for _, r := range roles {
			if !slices.Contains(have, r) {
				have = append(have, r)
			}
		}
		u.Roles[org] = have
	}
	data, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	return u, kv.Put(userPrefix+name, data)
}

// GetUser reads a user record.
func GetUser(kv artifacts.Storage, name string) (*User, bool, error) {
	data, found, err := kv.Get(userPrefix + name)
	if err != nil || !found {
		return nil, false, err
	}
	var u User
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, false, fmt.Errorf("user %s: stored record unreadable: %w", name, err)
	}
	if u.Roles == nil {
		u.Roles = map[string][]string{}
	}
	return &u, true, nil
}

// storedToken is the part of package server's token record (tokens/<hash>)
// that says who the token is for. It is read here, never written.
type storedToken struct {
	Name        string           `json:"name"`
	Role        string           `json:"role"`
	Org         string           `json:"org"`
	Permissions []vql.Permission `json:"permissions"`
	Expires     time.Time        `json:"expires"`
}

// tokenPresets are the permissions of a token stored before tokens kept
// their own set (server.Presets).
var tokenPresets = map[string][]vql.Permission{
	"reader":    {vql.PermReadResults, vql.PermAnyQuery},
	"publisher": {vql.PermPublish},
	"admin":     vql.AllPermissions,
	"metrics":   {},
}

func (t storedToken) permissions() []vql.Permission {
	if t.Role == "admin" {
		return vql.AllPermissions
	}
	if len(t.Permissions) > 0 {
		return t.Permissions
	}
	return tokenPresets[t.Role]
}

// Principal is one principal in one org, as gui_users() lists it.
type Principal struct {
	Name, Org   string
	Roles       []string
	Permissions []vql.Permission
	// Tokens is how many live tokens the principal holds in the org.
	Tokens int
}

// Principals lists every principal of every org: each name that holds a
// live token, and each recorded user, merged by name and org; sorted by
// name, then org.
func Principals(kv artifacts.Storage, now time.Time) ([]Principal, error) {
	byKey := map[[2]string]*Principal{}
	get := func(name, org string) *Principal {
		k := [2]string{name, org}
		if p := byKey[k]; p != nil {
			return p
		}
		p := &Principal{Name: name, Org: org}
		byKey[k] = p
		return p
	}
	merge := func(p *Principal, roles []string, perms []vql.Permission) {
		for _, r := range roles {
			if !slices.Contains(p.Roles, r) {
				p.Roles = append(p.Roles, r)
			}
		}
		for _, x := range perms {
			if !slices.Contains(p.Permissions, x) {
				p.Permissions = append(p.Permissions, x)
			}
		}
	}
	err := kv.Scan("tokens/", func(_ string, v []byte) error {
		var t storedToken
		if json.Unmarshal(v, &t) != nil || t.Name == "" {
			return nil
		}
		if !t.Expires.IsZero() && !now.Before(t.Expires) {
			return nil // an expired token makes no principal
		}
		p := get(t.Name, t.Org)
		p.Tokens++
		merge(p, []string{t.Role}, t.permissions())
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = kv.Scan(userPrefix, func(_ string, v []byte) error {
		var u User
		if json.Unmarshal(v, &u) != nil || u.Name == "" {
			return nil
		}
		for org, roles := range u.Roles {
			merge(get(u.Name, org), roles, rolePermissions(org, roles))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Principal, 0, len(byKey))
	for _, p := range byKey {
		// In Velociraptor's order of the ACL, so that listings are stable.
		slices.SortFunc(p.Permissions, func(a, b vql.Permission) int {
			return slices.Index(vql.AllPermissions, a) - slices.Index(vql.AllPermissions, b)
		})
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Org < out[j].Org
	})
	return out, nil
}

// KnownIn reports whether name is a principal of org.
func KnownIn(kv artifacts.Storage, name, org string, now time.Time) (bool, error) {
	all, err := Principals(kv, now)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(all, func(p Principal) bool { return p.Name == name && p.Org == org }), nil
}
