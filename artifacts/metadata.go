package artifacts

import (
	"encoding/json"
	"fmt"
	"slices"
)

// metadataPrefix starts the key of an artifact's stored metadata. It is
// not under storagePrefix, whose keys are definitions.
const metadataPrefix = "artifact_metadata/"

// Metadata is what an org records about an artifact beside its
// definition, as Velociraptor's artifact metadata: tags set by
// artifact_set(tags=) (the bundle or release an artifact was imported
// from, say), and whether the GUI hides it or basic users may collect it.
// It is kept apart from the YAML so that setting it leaves the definition
// as its author wrote it.
type Metadata struct {
	Tags   []string `json:"tags,omitempty"`
	Hidden bool     `json:"hidden,omitempty"`
	Basic  bool     `json:"basic,omitempty"`
}

// IsZero is true when nothing is recorded.
func (m Metadata) IsZero() bool { return len(m.Tags) == 0 && !m.Hidden && !m.Basic }

func metadataKey(org, name string) string { return metadataPrefix + org + "/" + name }

// SetMetadata records md for org's artifact name, replacing what was
// recorded; a zero md removes the record. The artifact must be one org
// sees.
func (r *Repository) SetMetadata(org, name string, md Metadata) error {
	org = normOrg(org)
	if _, ok := r.get(org, name); !ok {
		return fmt.Errorf("artifact %s not known", name)
	}
	md.Tags = slices.Clone(md.Tags)
	r.write.Lock()
	defer r.write.Unlock()
	return r.putMetadata(org, name, md)
}

// putMetadata stores md; the caller holds r.write.
func (r *Repository) putMetadata(org, name string, md Metadata) error {
	if r.storage != nil {
		var err error
		if md.IsZero() {
			err = r.storage.Delete(metadataKey(org, name))
		} else {
			b, _ := json.Marshal(md)
			err = r.storage.Put(metadataKey(org, name), b)
		}
		if err != nil {
			return fmt.Errorf("storing the metadata of artifact %s: %w", name, err)
		}
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.metadata == nil {
		r.metadata = map[string]Metadata{}
	}
	if md.IsZero() {
		delete(r.metadata, metadataKey(org, name))
	} else {
		r.metadata[metadataKey(org, name)] = md
	}
	return nil
}

// Metadata returns what org records about its artifact name; ok is false
// when nothing is (or the store cannot be read).
func (r *Repository) Metadata(org, name string) (Metadata, bool) {
	org = normOrg(org)
	if r.storage == nil {
		r.mu.RLock()
		defer r.mu.RUnlock()
		md, ok := r.metadata[metadataKey(org, name)]
		md.Tags = slices.Clone(md.Tags)
		return md, ok
	}
	b, found, err := r.storage.Get(metadataKey(org, name))
	if err != nil || !found {
		return Metadata{}, false
	}
	var md Metadata
	if json.Unmarshal(b, &md) != nil {
		return Metadata{}, false
	}
	return md, !md.IsZero()
}
