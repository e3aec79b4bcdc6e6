package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/vqlq/vqlq/artifacts"
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
)

// Token is what the store keeps of an API token: never the token itself,
// only its hash.
type Token struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Org     string    `json:"org"`
	Queues  []string  `json:"queues,omitempty"`
	Created time.Time `json:"created"`
}

// mayPublish reports whether the token may send to a queue.
func (t *Token) mayPublish(queue string) bool {
	switch t.Role {
	case RoleAdmin:
		return true
	case RolePublisher:
		return slices.Contains(t.Queues, queue)
	}
	return false
}

const tokenPrefix = "tokens/"

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new token, stores its hash and returns the secret,
// which is shown once and never again.
func CreateToken(kv artifacts.Storage, t Token) (string, error) {
	switch t.Role {
	case RoleReader, RolePublisher, RoleAdmin, RoleMetrics:
	default:
		return "", fmt.Errorf("role must be reader, publisher, admin or metrics, not %q", t.Role)
	}
	if t.Name == "" {
		return "", fmt.Errorf("a token needs a name (--name)")
	}
	if t.Role == RolePublisher && len(t.Queues) == 0 {
		return "", fmt.Errorf("a publisher token needs at least one --queue")
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := "vqlq_" + hex.EncodeToString(b)
	t.Created = time.Now().UTC()
	data, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	if err := kv.Put(tokenPrefix+hashToken(secret), data); err != nil {
		return "", err
	}
	return secret, nil
}

// lookupToken finds the token a secret stands for.
func lookupToken(kv artifacts.Storage, secret string) (*Token, bool) {
	if secret == "" {
		return nil, false
	}
	data, ok, err := kv.Get(tokenPrefix + hashToken(secret))
	if err != nil || !ok {
		return nil, false
	}
	var t Token
	if json.Unmarshal(data, &t) != nil {
		return nil, false
	}
	return &t, true
}

// tokenOrgs lists the orgs that have tokens.
func tokenOrgs(kv artifacts.Storage) map[string]bool {
	out := map[string]bool{}
	_ = kv.Scan(tokenPrefix, func(_ string, v []byte) error {
		var t Token
		if json.Unmarshal(v, &t) == nil {
			out[t.Org] = true
		}
		return nil
	})
	return out
}
