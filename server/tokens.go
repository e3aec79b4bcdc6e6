package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Roles a token can have.
const (
	// RoleReader may watch queues, list them and run read-only queries.
	RoleReader = "reader"
	// RolePublisher may send events to the queues it was granted.
	RolePublisher = "publisher"
	// RoleAdmin may do everything in its org.
	RoleAdmin = "admin"
	// RoleMetrics may read /metrics (its org's, every org's in root) and
	// nothing else: every API endpoint and the debug page refuse it.
	RoleMetrics = "metrics"
	// RoleEnroll may enroll clients (vqlq client --enroll-token) and do
	// nothing else; an enrolled client then uses its own credential.
	RoleEnroll = "enroll"
)

// Presets are the permissions each role stands for, in Velociraptor's
// names: a reader reads results and runs queries (its queries can call
// no plugin that needs more); a publisher is a forwarder's token, which
// sends to its queues and reads nothing; a metrics token reads /metrics
// alone. An admin holds every permission (vql.AllPermissions), whatever
// its stored set says. A token may hold more than its preset
// (--permission), never less.
var Presets = map[string][]vql.Permission{
	RoleReader:    {vql.PermReadResults, vql.PermAnyQuery},
	RolePublisher: {vql.PermPublish},
	RoleAdmin:     vql.AllPermissions,
	RoleMetrics:   {},
	RoleEnroll:    {},
}

// PermissionSet is what the token holds: its stored set, or, for a token
// stored before tokens kept one, its role's preset.
func (t *Token) PermissionSet() []vql.Permission {
	if t.Role == RoleAdmin {
		return vql.AllPermissions
	}
	if len(t.Permissions) > 0 {
		return t.Permissions
	}
	return Presets[t.Role]
}

// withPreset is the token's preset followed by the added permissions not
// already in it.
func withPreset(role string, added []vql.Permission) []vql.Permission {
	out := slices.Clone(Presets[role])
	for _, p := range added {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// ReservedNames are the principals the server uses itself (as _Source of
// the rows it sends, or in audit logs): no token may be called one of
// them, in any case.
var ReservedNames = []string{"server", "local", "anonymous", "system", "vqlq"}

// IsReservedName reports whether name is one of ReservedNames, ignoring
// case.
func IsReservedName(name string) bool {
	for _, r := range ReservedNames {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// MaxTokenName is the longest token name.
const MaxTokenName = 64

var tokenNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// CheckTokenName validates a token's name: a short string of letters,
// digits, '_', '-' and '.', not one of ReservedNames.
func CheckTokenName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a token needs a name (--name)")
	case len(name) > MaxTokenName:
		return fmt.Errorf("token name is %d characters long; at most %d are allowed", len(name), MaxTokenName)
	case !tokenNamePattern.MatchString(name):
		return fmt.Errorf("invalid token name %q: use letters, digits, '_', '-' and '.'", name)
	case IsReservedName(name):
		return fmt.Errorf("token name %q is reserved: the server uses %s itself", name, strings.Join(ReservedNames, ", "))
	}
	return nil
}

// Token is what the store keeps of an API token: never the token itself,
// only its hash.
type Token struct {
	// ID identifies the token without revealing it: the first 16 hex
	// digits of the secret's SHA-256 (the store key holds all of them).
	// It is stable for the token's life.
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Org    string   `json:"org"`
	Queues []string `json:"queues,omitempty"`
	// Permissions are what the token holds: its role's preset and the
	// permissions added when it was created. Tokens stored before there
	// were permission sets have none and hold their role's preset
	// (PermissionSet).
	Permissions []vql.Permission `json:"permissions,omitempty"`
	Created     time.Time        `json:"created"`
	// Expires is when the token stops working; zero means never.
	Expires time.Time `json:"expires,omitzero"`
	// LastUsed is the last time the token was accepted, as stored: the
	// server writes it at most about once a minute per token.
	LastUsed time.Time `json:"last_used,omitzero"`

	key string // the store key, tokens/<sha256 hex>
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// mayPublish reports whether the token may send to a queue: an admin to
// any; a token holding PUBLISH to its queues, or, when it was given none
// (a reader with --permission PUBLISH), to any queue a user may send to,
// as send_event() in its queries may.
func (t *Token) mayPublish(queue string) bool {
	switch {
	case t.Role == RoleAdmin:
		return true
	case !slices.Contains(t.PermissionSet(), vql.PermPublish):
		return false
	case len(t.Queues) > 0:
		return slices.Contains(t.Queues, queue)
	}
	return true
}

const tokenPrefix = "tokens/"

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// idOfKey is the ID of the token stored under key.
func idOfKey(key string) string {
	h := strings.TrimPrefix(key, tokenPrefix)
	return h[:min(16, len(h))]
}

// tokenMu serialises the changes to tokens (create, revoke, last use):
// only one process opens a store, so a lock in the process is enough.
var tokenMu sync.Mutex

// IssueToken checks and creates a token, records it in Server.Audit.Logs
// and returns the secret, which is shown once and never again. The name
// must be valid (CheckTokenName) and not in use in the org; every queue
// must be a queue of the org a user may send to (a SERVER_EVENT queue).
// t.Permissions are the permissions added to the role's preset; the token
// is stored with both.
func IssueToken(ctx context.Context, m *queues.Manager, kv artifacts.Storage, t Token, principal string) (string, error) {
	if err := checkToken(m, t); err != nil {
		return "", err
	}
	t.Permissions = withPreset(t.Role, t.Permissions)
	if t.Role == RoleAdmin {
		t.Permissions = nil
	}
	secret, err := storeToken(kv, &t)
	if err != nil {
		return "", err
	}
	details := ordereddict.NewDict().Set("name", t.Name).Set("role", t.Role).Set("queues", toAny(t.Queues)).
		Set("permissions", permissionNames(t.PermissionSet()))
	if !t.Expires.IsZero() {
		details.Set("expires", t.Expires)
	}
	_ = m.Audit(context.WithoutCancel(ctx), t.Org, "token_create", principal, details)
	return secret, nil
}

// checkToken validates a new token, before the store is looked at.
func checkToken(m *queues.Manager, t Token) error {
	switch t.Role {
	case RoleReader, RolePublisher, RoleAdmin, RoleMetrics, RoleEnroll:
	default:
		return fmt.Errorf("role must be reader, publisher, admin, metrics or enroll, not %q", t.Role)
	}
	if err := CheckTokenName(t.Name); err != nil {
		return err
	}
	if err := queues.CheckOrg(t.Org); err != nil {
		return err
	}
	if t.Role == RolePublisher && len(t.Queues) == 0 {
		return fmt.Errorf("a publisher token needs at least one --queue")
	}
	if len(t.Permissions) > 0 {
		switch t.Role {
		case RoleAdmin:
			return fmt.Errorf("--permission: an admin token holds every permission already")
		case RoleEnroll:
			return fmt.Errorf("--permission: an enroll token may only enroll clients")
		case RoleMetrics:
			return fmt.Errorf("--permission: a metrics token may only read /metrics; use a reader or publisher token with the permissions it needs")
		}
	}
	for _, p := range t.Permissions {
		if _, err := vql.ParsePermission(string(p)); err != nil {
			return fmt.Errorf("--permission: %v", err)
		}
	}
	for _, q := range t.Queues {
		if _, err := m.CheckSend(t.Org, q, queues.Sender{Principal: t.Name}); err != nil {
			if errors.Is(err, queues.ErrUnknownQueue) {
				return fmt.Errorf("--queue %s: there is no such queue in org %s", q, t.Org)
			}
			msg := strings.TrimPrefix(err.Error(), "send_event: ")
			return fmt.Errorf("--queue %s: %s", q, strings.Replace(msg, "send_event only sends", "a token may only send", 1))
		}
	}
	if !t.Expires.IsZero() && !t.Expires.After(time.Now()) {
		return fmt.Errorf("--expires must be in the future")
	}
	return nil
}

// storeToken makes the secret of t and stores t under its hash, unless
// the org has a token of that name.
func storeToken(kv artifacts.Storage, t *Token) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := "vqlq_" + hex.EncodeToString(b)
	key := tokenPrefix + hashToken(secret)
	t.ID = idOfKey(key)
	t.Created = time.Now().UTC()
	t.LastUsed = time.Time{}
	if !t.Expires.IsZero() {
		t.Expires = t.Expires.UTC()
	}
	data, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	tokenMu.Lock()
	defer tokenMu.Unlock()
	all, err := scanTokens(kv)
	if err != nil {
		return "", err
	}
	for _, o := range all {
		if o.Org == t.Org && strings.EqualFold(o.Name, t.Name) {
			return "", fmt.Errorf("org %s already has a token named %s: choose another name, or revoke it first (vqlq token revoke %s --org %s)", t.Org, o.Name, o.Name, t.Org)
		}
	}
	if err := kv.Put(key, data); err != nil {
		return "", err
	}
	t.key = key
	return secret, nil
}

// decodeToken reads a stored token; its ID comes from its key.
func decodeToken(key string, data []byte) (*Token, bool) {
	var t Token
	if json.Unmarshal(data, &t) != nil {
		return nil, false
	}
	t.key = key
	t.ID = idOfKey(key)
	return &t, true
}

// lookupToken finds the token a secret stands for.
func lookupToken(kv artifacts.Storage, secret string) (*Token, bool) {
	if secret == "" {
		return nil, false
	}
	key := tokenPrefix + hashToken(secret)
	data, ok, err := kv.Get(key)
	if err != nil || !ok {
		return nil, false
	}
	return decodeToken(key, data)
}

// bearerToken reads the token of an Authorization header. The scheme is
// case-insensitive (RFC 6750) and spaces around the parts are tolerated.
func bearerToken(header string) (string, bool) {
	f := strings.Fields(header)
	if len(f) != 2 || !strings.EqualFold(f[0], "Bearer") {
		return "", false
	}
	return f[1], true
}

// scanTokens reads every stored token.
func scanTokens(kv artifacts.Storage) ([]*Token, error) {
	var out []*Token
	err := kv.Scan(tokenPrefix, func(k string, v []byte) error {
		if t, ok := decodeToken(k, v); ok {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// tokenOrgs lists the orgs that have tokens.
func tokenOrgs(kv artifacts.Storage) map[string]bool {
	out := map[string]bool{}
	all, _ := scanTokens(kv)
	for _, t := range all {
		out[t.Org] = true
	}
	return out
}

// ListTokens returns the tokens of an org, by name.
func ListTokens(kv artifacts.Storage, org string) ([]Token, error) {
	all, err := scanTokens(kv)
	if err != nil {
		return nil, err
	}
	out := []Token{}
	for _, t := range all {
		if t.Org == org {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ErrTokenNotFound is returned by RevokeToken when the org has no token of
// that name.
var ErrTokenNotFound = fmt.Errorf("no such token")

// RevokeToken deletes the org's token called name and records it in
// Server.Audit.Logs. The token is refused from then on; a running
// server also ends its open streams (at once when the revocation goes
// through it, otherwise within about a second). It returns the tokens
// removed (one, unless an old store holds duplicates).
func RevokeToken(ctx context.Context, m *queues.Manager, kv artifacts.Storage, org, name, principal string) ([]Token, error) {
	tokenMu.Lock()
	all, err := scanTokens(kv)
	var gone []Token
	for _, t := range all {
		if err != nil {
			break
		}
		if t.Org == org && t.Name == name {
			if err = kv.Delete(t.key); err == nil {
				gone = append(gone, *t)
			}
		}
	}
	tokenMu.Unlock()
	if err != nil {
		return gone, err
	}
	if len(gone) == 0 {
		return nil, fmt.Errorf("%w: org %s has no token named %q (vqlq token list --org %s shows them)", ErrTokenNotFound, org, name, org)
	}
	for _, t := range gone {
		_ = m.Audit(context.WithoutCancel(ctx), org, "token_revoke", principal, ordereddict.NewDict().
			Set("name", t.Name).Set("role", t.Role).Set("created", t.Created))
	}
	return gone, nil
}

// writeLastUsed stores when a token was last used, unless it is gone.
func writeLastUsed(kv artifacts.Storage, key string, at time.Time) error {
	tokenMu.Lock()
	defer tokenMu.Unlock()
	data, ok, err := kv.Get(key)
	if err != nil || !ok {
		return err
	}
	t, ok := decodeToken(key, data)
	if !ok || !at.After(t.LastUsed) {
		return nil
	}
	t.LastUsed = at.UTC()
	data, err = json.Marshal(t)
	if err != nil {
		return err
	}
	return kv.Put(key, data)
}

// permissionNames lists permissions for an audit row or a listing.
func permissionNames(perms []vql.Permission) []any {
	out := make([]any, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
