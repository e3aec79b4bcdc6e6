package vql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vqlq/vqlq/internal/suggest"
)

// Permission names a right a plugin or function needs, in Velociraptor's
// words, so that an artifact's required_permissions and a token's grants
// read the same.
type Permission string

// The permissions vqlq's built-ins declare.
const (
	// PermReadResults reads queues and stored events.
	PermReadResults Permission = "READ_RESULTS"
	// PermPublish sends events (send_event, alert).
	PermPublish Permission = "PUBLISH"
	// PermArtifactWriter adds or removes artifacts at run time.
	PermArtifactWriter Permission = "ARTIFACT_WRITER"
	// PermCollectServer runs an artifact as a flow on the server.
	PermCollectServer Permission = "COLLECT_SERVER"
	// PermServerAdmin changes the server's configuration (the monitoring
	// table) and sees every org.
	PermServerAdmin Permission = "SERVER_ADMIN"
	// PermNetwork reaches out over the network (http_client, mail, the
	// forwarders).
	PermNetwork Permission = "NETWORK"
	// PermFilesystemRead reads files of the host (glob, stat, read_file
	// with the file accessor, hash, sqlite, …).
	PermFilesystemRead Permission = "FILESYSTEM_READ"
	// PermFilesystemWrite writes or removes files of the host (copy, rm,
	// write_csv, tempfile, upload, …).
	PermFilesystemWrite Permission = "FILESYSTEM_WRITE"
	// PermExecve runs programs (execve).
	PermExecve Permission = "EXECVE"
	// PermMachineState reads the host's state: processes, connections,
	// users, interfaces, the environment.
	PermMachineState Permission = "MACHINE_STATE"
	// PermOrgAdmin manages orgs and their users.
	PermOrgAdmin Permission = "ORG_ADMIN"
	// PermDeleteResults deletes stored events (delete_events).
	PermDeleteResults Permission = "DELETE_RESULTS"
	// PermPrepareResults prepares downloads and exports of results.
	PermPrepareResults Permission = "PREPARE_RESULTS"
	// PermServerArtifactWriter adds or removes server artifacts.
	PermServerArtifactWriter Permission = "SERVER_ARTIFACT_WRITER"
	// PermCollectClient schedules collections on clients.
	PermCollectClient Permission = "COLLECT_CLIENT"
	// PermCollectBasic schedules collections of basic artifacts only.
	PermCollectBasic Permission = "COLLECT_BASIC"
	// PermLabelClient labels clients.
	PermLabelClient Permission = "LABEL_CLIENT"
	// PermStartHunt starts hunts.
	PermStartHunt Permission = "START_HUNT"
	// PermNotebookEditor edits notebooks.
	PermNotebookEditor Permission = "NOTEBOOK_EDITOR"
	// PermImpersonation runs a query as another principal.
	PermImpersonation Permission = "IMPERSONATION"
	// PermAnyQuery runs an arbitrary query (the API's query endpoint).
	PermAnyQuery Permission = "ANY_QUERY"
	// PermAllQuery runs queries across clients.
	PermAllQuery Permission = "ALL_QUERY"
)

// AllPermissions lists every permission by name, in Velociraptor's
// order of its ACL, so that a token's grants, an artifact's
// required_permissions and --deny can be checked for typos.
var AllPermissions = []Permission{
	PermAllQuery, PermAnyQuery, PermPublish, PermReadResults, PermLabelClient,
	PermCollectClient, PermCollectBasic, PermStartHunt, PermCollectServer,
	PermArtifactWriter, PermServerArtifactWriter, PermExecve, PermNotebookEditor,
	PermServerAdmin, PermOrgAdmin, PermImpersonation, PermFilesystemRead,
	PermFilesystemWrite, PermMachineState, PermPrepareResults, PermDeleteResults,
	PermNetwork,
}

// ParsePermission reads a permission's name, in any case: an unknown name
// is an error naming it, with the closest known name when one is near.
func ParsePermission(name string) (Permission, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if slices.Contains(AllPermissions, Permission(n)) {
		return Permission(n), nil
	}
	known := make([]string, len(AllPermissions))
	for i, p := range AllPermissions {
		known[i] = string(p)
	}
	if n == "" {
		return "", fmt.Errorf("empty permission name: the permissions are %s", strings.Join(known, ", "))
	}
	return "", fmt.Errorf("unknown permission %q%s", name, suggest.DidYouMean(n, known))
}

// ParsePermissions reads a list of permission names, each item of which
// may itself be a comma-separated list (--permission A,B --permission C).
// Duplicates are dropped; the first unknown name is the error.
func ParsePermissions(items []string) ([]Permission, error) {
	var out []Permission
	for _, item := range items {
		for name := range strings.SplitSeq(item, ",") {
			p, err := ParsePermission(name)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Identity is who the session acts for. It is fixed when the session is
// opened — from the command line, or from the token of an API request —
// and plugins read it through the scope (Scope.Org, Scope.Identity). No
// variable a query sets can change it: that is what makes a token's reach
// the reach it was given when it authenticated.
type Identity struct {
	// Org is the org every queue, artifact and alert window of the
	// session belongs to ("" is the host's default org).
	Org string
	// Principal names who acts: a token's name, or "server" for the
	// folder's owner. Events sent by the session are stamped with it.
	Principal string
	// Role is the token's role ("admin", "reader", …), for messages.
	Role string
	// All grants every permission (the local command line, an admin).
	All bool
	// AllOrgs lets the session see every org (orgs(), the debug page):
	// the data folder's owner and the admins of the default org. It
	// never lets a query act in another org.
	AllOrgs bool
	// Granted are the permissions held when All is not set.
	Granted []Permission
	// Denied are never held, whatever All, Granted or an artifact's
	// implied_permissions say: `--deny` narrows the local command line,
	// which otherwise holds everything.
	Denied []Permission
}

// Has reports whether the identity holds a permission.
func (id Identity) Has(p Permission) bool {
	return !slices.Contains(id.Denied, p) && (id.All || slices.Contains(id.Granted, p))
}

// Permissions lists what the identity holds, in AllPermissions' order.
func (id Identity) Permissions() []Permission {
	var out []Permission
	for _, p := range AllPermissions {
		if id.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// granting is the identity with extra permissions: an artifact's
// implied_permissions while its sources run. Denied ones stay denied.
func (id Identity) granting(extra []Permission) Identity {
	if id.All || len(extra) == 0 {
		return id
	}
	granted := slices.Clone(id.Granted)
	for _, p := range extra {
		if !slices.Contains(granted, p) {
			granted = append(granted, p)
		}
	}
	id.Granted = granted
	return id
}

// missing returns the first of perms the identity lacks.
func (id Identity) missing(perms []Permission) (Permission, bool) {
	for _, p := range perms {
		if !id.Has(p) {
			return p, true
		}
	}
	return "", false
}

// describe names the identity in a refusal: `token ops (reader)`.
func (id Identity) describe() string {
	var b strings.Builder
	b.WriteString(id.Principal)
	if b.Len() == 0 {
		b.WriteString("this session")
	}
	if id.Role != "" {
		b.WriteString(" (" + id.Role + ")")
	}
	return b.String()
}

// Denial is a call the session's identity was not allowed to make, as
// SessionOptions.OnDenied is told it.
type Denial struct {
	// Call is the plugin or function refused.
	Call string
	// Permission is the one it needs and the identity lacks.
	Permission Permission
	// Query is the text of the statement that made the call.
	Query string
}

// checkPermissions refuses a call whose declared permissions the session
// lacks: the refusal is logged, reported to OnDenied (the server audits
// it) and the call does not run.
func (s *Scope) checkPermissions(name string, info *Info) bool {
	id := s.Identity()
	p, lacking := id.missing(info.Permissions)
	if !lacking {
		return true
	}
	s.Errorf("%s: permission denied: %s lacks %s", name, id.describe(), p)
	if s.rt.onDenied != nil {
		s.rt.onDenied(Denial{Call: name, Permission: p, Query: s.query})
	}
	return false
}

// Require refuses, as a call's declared permissions are refused, when the
// session lacks one of perms: for rights that depend on an argument rather
// than on the call itself (an accessor that opens host files, query() in
// another org). It reports whether the caller may go on.
func (s *Scope) Require(call string, perms ...Permission) bool {
	return s.checkPermissions(call, &Info{Permissions: perms})
}

// Identity is who the session acts for.
func (s *Session) Identity() Identity { return s.root.rt.identity }

// SetIdentity changes who the session acts for, keeping its LETs: the
// REPL's `.org` does this for the folder's owner. It is the host's
// decision, never a query's; call it only between statements.
func (s *Session) SetIdentity(id Identity) { s.root.rt.identity = id }

// WithIdentity returns a child scope that acts for id: what it calls is
// checked against id's permissions and runs in id's org, while the caller
// keeps its own. It is for the host's code — an artifact's implied
// permissions, query(org_id=) once SERVER_ADMIN was checked — never for
// anything a query's values decide unchecked.
func (s *Scope) WithIdentity(id Identity) *Scope {
	rt := *s.rt
	rt.identity = id
	c := s.Child()
	c.rt = &rt
	return c
}

// Identity is who the session acts for, with the permissions the
// artifacts whose sources run in this scope imply (Granting).
func (s *Scope) Identity() Identity {
	if s.granted == nil {
		return s.rt.identity
	}
	return s.rt.identity.granting(s.granted)
}

// Granting returns a child scope in which the session also holds perms:
// an artifact's implied_permissions, for its own sources. The caller's
// scope, and so everything after the artifact, keeps the session's
// identity as it was; a permission the session was denied stays denied.
func (s *Scope) Granting(perms []Permission) *Scope {
	c := s.Child()
	if len(perms) > 0 {
		c.granted = append(slices.Clone(s.granted), perms...)
	}
	return c
}

// Org is the org the session runs in ("" when the host set none).
func (s *Scope) Org() string { return s.rt.identity.Org }
