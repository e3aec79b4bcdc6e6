package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/vqlq/vqlq/vql"
)

// The token endpoints answer only on the data folder's socket: tokens are
// managed with `vqlq token` on the server's machine.
const tokensLocalOnly = "tokens are managed with `vqlq token` on the server's machine"

// TokenRequest creates a token through the local socket (vqlq token create
// while the server owns the folder).
type TokenRequest struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Queues []string `json:"queues"`
	// Permissions are added to the role's preset (names as in
	// vql.AllPermissions, any case).
	Permissions []string `json:"permissions,omitempty"`
	// Expires is when the token stops working; zero (or absent) is never.
	Expires time.Time `json:"expires,omitzero"`
}

// TokenInfo is one token as GET /tokens lists it: never its secret, nor
// its hash.
type TokenInfo struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Org    string   `json:"org"`
	Queues []string `json:"queues"`
	// Permissions are what the token holds (for an admin, every one).
	Permissions []string   `json:"permissions"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"last_used"` // nil: never used
	Expires     *time.Time `json:"expires"`   // nil: never expires
	Expired     bool       `json:"expired"`
}

// Info is what may be shown of a token.
func (t *Token) Info(now time.Time) TokenInfo {
	i := TokenInfo{Name: t.Name, Role: t.Role, Org: t.Org, Queues: t.Queues, Created: t.Created, Expired: t.Expired(now)}
	if i.Queues == nil {
		i.Queues = []string{}
	}
	i.Permissions = []string{}
	for _, p := range t.PermissionSet() {
		i.Permissions = append(i.Permissions, string(p))
	}
	if !t.LastUsed.IsZero() {
		u := t.LastUsed
		i.LastUsed = &u
	}
	if !t.Expires.IsZero() {
		e := t.Expires
		i.Expires = &e
	}
	return i
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.local {
		s.refuse(w, r, c, http.StatusForbidden, "%s", tokensLocalOnly)
		return
	}
	var req TokenRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "malformed JSON: %v", err)
		return
	}
	perms, err := vql.ParsePermissions(req.Permissions)
	if err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "permissions: %v", err)
		return
	}
	secret, err := IssueToken(r.Context(), s.opts.Manager, s.opts.KV,
		Token{Name: req.Name, Role: req.Role, Org: c.org, Queues: req.Queues, Permissions: perms, Expires: req.Expires}, c.principal())
	if err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": secret})
}

// handleListTokens lists the org's tokens, with their last use as this
// server saw it.
func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.local {
		s.refuse(w, r, c, http.StatusForbidden, "%s", tokensLocalOnly)
		return
	}
	list, err := s.ListTokens(c.org)
	if err != nil {
		s.refuse(w, r, c, http.StatusInternalServerError, "%v", err)
		return
	}
	now := time.Now()
	out := make([]TokenInfo, len(list))
	for i := range list {
		out[i] = list[i].Info(now)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleRevokeToken revokes the org's token of that name and ends its
// open streams.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.local {
		s.refuse(w, r, c, http.StatusForbidden, "%s", tokensLocalOnly)
		return
	}
	gone, err := s.RevokeToken(r.Context(), c.org, r.PathValue("name"), c.principal())
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrTokenNotFound) {
			status = http.StatusNotFound
		}
		s.refuse(w, r, c, status, "%v", err)
		return
	}
	now := time.Now()
	out := make([]TokenInfo, len(gone))
	for i := range gone {
		out[i] = gone[i].Info(now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": out})
}
