package queues

import (
	"errors"
	"fmt"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// Server metadata is free-form key/value data per org, kept in the data
// folder: Velociraptor's server artifacts read their configuration from
// it (server_metadata().SlackToken), and an admin sets it with
// server_set_metadata().

// metadataKey prefixes an org's metadata record in the store.
const metadataKey = "server-metadata/"

// ErrNoMetadata is returned when the store keeps no key-value data (an
// in-memory store in a test, say), so metadata cannot be kept.
var ErrNoMetadata = errors.New("this store keeps no server metadata")

// ServerMetadata returns org's metadata, an empty dict when none was set.
func (m *Manager) ServerMetadata(org string) (*ordereddict.Dict, error) {
	if m.kv == nil {
		return nil, ErrNoMetadata
	}
	m.metaMu.Lock()
	defer m.metaMu.Unlock()
	return m.readMetadata(org)
}

// SetServerMetadata sets changes' keys in org's metadata (a NULL value
// deletes the key) and returns the metadata as it now is.
func (m *Manager) SetServerMetadata(org string, changes *ordereddict.Dict) (*ordereddict.Dict, error) {
	if m.kv == nil {
		return nil, ErrNoMetadata
	}
	m.metaMu.Lock()
	defer m.metaMu.Unlock()
	md, err := m.readMetadata(org)
	if err != nil {
		return nil, err
	}
	for _, item := range changes.Items() {
		if item.Value == nil {
			md.Delete(item.Key)
			continue
		}
		md.Update(item.Key, item.Value) // a key keeps its place
	}
	data, err := value.EncodeJSON(md)
	if err != nil {
		return nil, fmt.Errorf("server metadata: %w", err)
	}
	if err := m.kv.Put(metadataKey+org, data); err != nil {
		return nil, fmt.Errorf("server metadata: %w", err)
	}
	return md, nil
}

// readMetadata reads org's record; the caller holds metaMu.
func (m *Manager) readMetadata(org string) (*ordereddict.Dict, error) {
	data, found, err := m.kv.Get(metadataKey + org)
	if err != nil {
		return nil, fmt.Errorf("server metadata: %w", err)
	}
	if !found {
		return ordereddict.NewDict(), nil
	}
	v, err := value.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("server metadata of org %s: %w", org, err)
	}
	md, ok := v.(*ordereddict.Dict)
	if !ok {
		return nil, fmt.Errorf("server metadata of org %s: stored as %s, not a dict", org, value.TypeName(v))
	}
	return md, nil
}
