package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
)

// Registry is the org-scoped record of clients over the data folder's
// key-value store. The same folder always gets the same Registry (Of), so
// that the live state it holds — which clients are connected now — is
// shared by every query and by the server that accepts connections.
type Registry struct {
	kv  artifacts.Storage
	now func() time.Time

	mu        sync.Mutex // serialises read-modify-write of records
	connected map[string]bool
	// changed holds, per org/client, a channel closed at the next change
	// of its record (labels, deletion): a connected client's stream waits
	// on it to send a new assignment, or to end.
	changed map[string]chan struct{}
}

// ErrNoClient is returned for a client id the org has no record of.
var ErrNoClient = errors.New("no such client")

const clientPrefix = "clients/"

// New returns a registry over kv. Callers that share a data folder should
// share its registry: use Of.
func New(kv artifacts.Storage) *Registry {
	return &Registry{kv: kv, now: time.Now, connected: map[string]bool{}, changed: map[string]chan struct{}{}}
}

var registries sync.Map // artifacts.Storage → *Registry

// Of returns the registry of the manager's data folder, the same one for
// every caller while the folder is open.
func Of(m *queues.Manager) *Registry {
	kv := m.Storage()
	if r, ok := registries.Load(kv); ok {
		return r.(*Registry)
	}
	r, _ := registries.LoadOrStore(kv, New(kv))
	return r.(*Registry)
}

func clientKey(org, id string) string { return clientPrefix + org + "/" + id }

func (r *Registry) read(org, id string) (*Client, bool, error) {
	data, ok, err := r.kv.Get(clientKey(org, id))
	if err != nil || !ok {
		return nil, false, err
	}
	var c Client
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, false, fmt.Errorf("client %s of org %s: stored record unreadable: %w", id, org, err)
	}
	c.Connected = r.connected[org+"/"+c.ClientID]
	return &c, true, nil
}

func (r *Registry) write(org string, c *Client) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return r.kv.Put(clientKey(org, c.ClientID), data)
}

func checkOrg(org string) error { return queues.CheckOrg(org) }

// Put stores a client record as given, replacing any earlier one.
func (r *Registry) Put(org string, c Client) error {
	if err := checkOrg(org); err != nil {
		return err
	}
	if err := CheckClientID(c.ClientID); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.write(org, &c)
}

// Enroll records a client that introduces itself: a new one gets an id
// (when it brings none) and its first_seen; one already known keeps its
// first_seen and labels and takes the new host and agent details. Either
// way it is seen now. It returns the record as stored.
func (r *Registry) Enroll(org string, c Client) (*Client, error) {
	if err := checkOrg(org); err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		c.ClientID = NewClientID()
	}
	if err := CheckClientID(c.ClientID); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, found, err := r.read(org, c.ClientID)
	if err != nil {
		return nil, err
	}
	now := r.now().UTC()
	if found {
		c.FirstSeen = old.FirstSeen
		c.Labels = old.Labels
		if c.KeyHash == "" {
			c.KeyHash = old.KeyHash
		}
	}
	if c.FirstSeen.IsZero() {
		c.FirstSeen = now
	}
	c.LastSeen = now
	if err := r.write(org, &c); err != nil {
		return nil, err
	}
	c.Connected = r.connected[org+"/"+c.ClientID]
	return &c, nil
}

// Get returns the org's record of a client; found is false when there is
// none.
func (r *Registry) Get(org, id string) (*Client, bool, error) {
	if err := checkOrg(org); err != nil {
		return nil, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.read(org, id)
}

// Exists reports whether the org has a record of the client.
func (r *Registry) Exists(org, id string) (bool, error) {
	_, found, err := r.Get(org, id)
	return found, err
}

// List returns the org's clients that match search (see ParseSearch), by
// client id.
func (r *Registry) List(org, search string) ([]*Client, error) {
	if err := checkOrg(org); err != nil {
		return nil, err
	}
	s, err := ParseSearch(search)
	if err != nil {
		return nil, err
	}
	all, err := r.all(org)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if s.Match(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// all reads every client of the org, by client id (the store's order).
func (r *Registry) all(org string) ([]*Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Client
	prefix := clientPrefix + org + "/"
	err := r.kv.Scan(prefix, func(k string, v []byte) error {
		var c Client
		if json.Unmarshal(v, &c) != nil {
			return nil // an unreadable record is skipped, not fatal to a listing
		}
		c.Connected = r.connected[org+"/"+c.ClientID]
		out = append(out, &c)
		return nil
	})
	return out, err
}

// Matching lists the ids of the org's clients a hunt targets: those that
// carry one of includeLabels (any client when there are none), none of
// excludeLabels, and run os (any when empty; "windows", "linux",
// "darwin", compared without case).
func (r *Registry) Matching(org string, includeLabels, excludeLabels []string, os string) ([]string, error) {
	if err := checkOrg(org); err != nil {
		return nil, err
	}
	all, err := r.all(org)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, c := range all {
		if len(includeLabels) > 0 && !slices.ContainsFunc(includeLabels, c.HasLabel) {
			continue
		}
		if slices.ContainsFunc(excludeLabels, c.HasLabel) {
			continue
		}
		if os != "" && !strings.EqualFold(c.System, os) {
			continue
		}
		ids = append(ids, c.ClientID)
	}
	sort.Strings(ids)
	return ids, nil
}

// Delete removes the org's record of a client and any request pending for
// it; deleted is false when there was none.
func (r *Registry) Delete(org, id string) (deleted bool, err error) {
	if err := checkOrg(org); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, found, err := r.read(org, id)
	if err != nil || !found {
		return false, err
	}
	if err := r.kv.Delete(clientKey(org, id)); err != nil {
		return false, err
	}
	_ = r.kv.Delete(killKey(org, id))
	delete(r.connected, org+"/"+id)
	r.signal(org, id)
	return true, nil
}

// SetLabels replaces the client's labels (duplicates, in any case, and
// empty labels dropped) and returns the record as stored.
func (r *Registry) SetLabels(org, id string, labels []string) (*Client, error) {
	return r.change(org, id, func(c *Client) { c.Labels = nil; addLabels(c, labels) })
}

// AddLabels adds the labels the client does not carry yet.
func (r *Registry) AddLabels(org, id string, labels []string) (*Client, error) {
	return r.change(org, id, func(c *Client) { addLabels(c, labels) })
}

// RemoveLabels removes the labels, matched without case.
func (r *Registry) RemoveLabels(org, id string, labels []string) (*Client, error) {
	return r.change(org, id, func(c *Client) {
		c.Labels = slices.DeleteFunc(c.Labels, func(l string) bool {
			return slices.ContainsFunc(labels, func(x string) bool { return strings.EqualFold(x, l) })
		})
	})
}

func addLabels(c *Client, labels []string) {
	for _, l := range labels {
		if l = strings.TrimSpace(l); l != "" && !c.HasLabel(l) {
			c.Labels = append(c.Labels, l)
		}
	}
}

// change applies fn to a stored record and stores it again.
func (r *Registry) change(org, id string, fn func(c *Client)) (*Client, error) {
	if err := checkOrg(org); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, found, err := r.read(org, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w %s in org %s", ErrNoClient, id, org)
	}
	fn(c)
	if err := r.write(org, c); err != nil {
		return nil, err
	}
	r.signal(org, id)
	return c, nil
}

// SetConnected records whether a client is connected now. It is not
// stored: after a restart no client is connected until it reconnects.
func (r *Registry) SetConnected(org, id string, connected bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if connected {
		r.connected[org+"/"+id] = true
	} else {
		delete(r.connected, org+"/"+id)
	}
}

// Changed returns a channel closed at the next change of a client's
// record (its labels, its deletion). Take it before reading the record.
func (r *Registry) Changed(org, id string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.changed[org+"/"+id]
	if !ok {
		ch = make(chan struct{})
		r.changed[org+"/"+id] = ch
	}
	return ch
}

// signal wakes the waiters on a client's record. r.mu is held.
func (r *Registry) signal(org, id string) {
	if ch, ok := r.changed[org+"/"+id]; ok {
		close(ch)
		delete(r.changed, org+"/"+id)
	}
}

// ErrConnected is returned by Connect for a client that is connected
// already: two processes claim one id (a cloned machine).
var ErrConnected = errors.New("client is connected already")

// Connect marks a client connected, unless it is already: the caller
// holds the connection until it calls the returned release.
func (r *Registry) Connect(org, id string) (release func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := org + "/" + id
	if r.connected[key] {
		return nil, fmt.Errorf("%w: %s in org %s", ErrConnected, id, org)
	}
	r.connected[key] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.connected, key)
			r.mu.Unlock()
		})
	}, nil
}

// Touch records that a client was seen now, from addr.
func (r *Registry) Touch(org, id, addr string) (*Client, error) {
	return r.changeQuietly(org, id, func(c *Client) {
		c.LastSeen = r.now().UTC()
		if addr != "" {
			c.LastIP = addr
		}
	})
}

// changeQuietly is change without waking the record's waiters: last seen
// changes on every ping and says nothing a stream must act on.
func (r *Registry) changeQuietly(org, id string, fn func(c *Client)) (*Client, error) {
	if err := checkOrg(org); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, found, err := r.read(org, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w %s in org %s", ErrNoClient, id, org)
	}
	fn(c)
	if err := r.write(org, c); err != nil {
		return nil, err
	}
	return c, nil
}
