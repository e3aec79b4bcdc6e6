package fleet

import (
	"encoding/json"
	"fmt"
	"time"
)

// A kill request waits in the store until the client's connection takes
// it (issue 13): killkillkill() may be called while the client is away,
// and the request must survive a restart of the server in between.

const killPrefix = "client-kills/"

func killKey(org, id string) string { return killPrefix + org + "/" + id }

// KillRequest is a pending request that a client's process exit.
type KillRequest struct {
	ClientID  string    `json:"client_id"`
	Principal string    `json:"principal"`
	Requested time.Time `json:"requested"`
}

// RequestKill records that the client should exit when it next talks to
// the server; a client the org has no record of is an error. A second
// request replaces the first.
func (r *Registry) RequestKill(org, id, principal string) (KillRequest, error) {
	if err := checkOrg(org); err != nil {
		return KillRequest{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, found, err := r.read(org, id)
	if err != nil {
		return KillRequest{}, err
	}
	if !found {
		return KillRequest{}, fmt.Errorf("%w %s in org %s", ErrNoClient, id, org)
	}
	k := KillRequest{ClientID: id, Principal: principal, Requested: r.now().UTC()}
	data, err := json.Marshal(k)
	if err != nil {
		return KillRequest{}, err
	}
	if err := r.kv.Put(killKey(org, id), data); err != nil {
		return KillRequest{}, err
	}
	r.signal(org, id) // a connected client hears it now
	return k, nil
}

// TakeKill returns and forgets the client's pending kill request, for the
// connection that delivers it.
func (r *Registry) TakeKill(org, id string) (KillRequest, bool, error) {
	if err := checkOrg(org); err != nil {
		return KillRequest{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	data, found, err := r.kv.Get(killKey(org, id))
	if err != nil || !found {
		return KillRequest{}, false, err
	}
	var k KillRequest
	if err := json.Unmarshal(data, &k); err != nil {
		return KillRequest{}, false, fmt.Errorf("kill request of %s: %w", id, err)
	}
	return k, true, r.kv.Delete(killKey(org, id))
}
