package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/fleet"
)

// Identity is who the client is to its server, kept in the client's
// folder (identity.json, mode 0600): the id it made, the secret only it
// holds, and where it enrolled.
type Identity struct {
	Server   string `json:"server"`
	Org      string `json:"org"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret"`
	Enrolled bool   `json:"enrolled"`
}

const identityFile = "identity.json"

// loadIdentity reads the client's identity, or makes a new one (not yet
// enrolled) when the folder has none.
func loadIdentity(dir, server, org string) (*Identity, error) {
	path := filepath.Join(dir, identityFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		id := &Identity{Server: server, Org: org, ClientID: fleet.NewClientID(), Secret: hex.EncodeToString(secret)}
		return id, id.save(dir)
	}
	if err != nil {
		return nil, err
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return nil, fmt.Errorf("%s: %v (the client's identity; it is not rewritten: move it away to enroll as a new client)", path, err)
	}
	if err := fleet.CheckClientID(id.ClientID); err != nil || id.Secret == "" {
		return nil, fmt.Errorf("%s: no valid client id and secret (move it away to enroll as a new client)", path)
	}
	if org != "" && id.Org != org {
		return nil, fmt.Errorf("%s: this client is enrolled in org %s, not %s", path, id.Org, org)
	}
	if server != "" {
		id.Server = server
	}
	return &id, nil
}

func (id *Identity) save(dir string) error {
	b, _ := json.MarshalIndent(id, "", "  ")
	tmp := filepath.Join(dir, identityFile+".new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, identityFile))
}

func keyHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// enroll introduces the client to its server with the enrollment token.
func (c *Client) enroll(ctx context.Context) error {
	if c.opts.EnrollToken == "" {
		return fmt.Errorf("client %s is not enrolled yet: give --enroll-token (a token of role enroll: vqlq token create --role enroll)", c.id.ClientID)
	}
	body, _ := json.Marshal(clientapi.Enrollment{ClientID: c.id.ClientID, KeyHash: keyHash(c.id.Secret), Info: c.info()})
	req, err := http.NewRequestWithContext(ctx, "POST", c.id.Server+clientapi.EnrollPath(c.id.Org), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.opts.EnrollToken)
	req.Header.Set("Content-Type", "application/json")
	var out clientapi.Enrolled
	if err := c.do(req, &out); err != nil {
		return fmt.Errorf("enrolling: %w", err)
	}
	c.id.Enrolled = true
	if err := c.id.save(c.opts.Dir); err != nil {
		return err
	}
	c.logf("enrolled as %s in org %s", c.id.ClientID, c.id.Org)
	return nil
}
