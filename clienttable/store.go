package clienttable

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// tablePrefix starts the store key of every org's table:
// client-monitoring/<org>.
const tablePrefix = "client-monitoring/"

// storedTable is a table as kept in the store (JSON).
type storedTable struct {
	Version int64                `json:"version"`
	Entries []storedEntry        `json:"entries"`
	Removed map[string]time.Time `json:"removed,omitempty"`
}

type storedEntry struct {
	Artifact   string          `json:"artifact"`
	Label      string          `json:"label,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// tableLocked returns an org's table, reading it from the store the first
// time. s.mu is held.
func (s *Service) tableLocked(org string) (*table, error) {
	if t, ok := s.tables[org]; ok {
		return t, nil
	}
	t := &table{entries: map[entryKey]*Entry{}, removed: map[string]time.Time{}}
	b, found, err := s.kv.Get(tablePrefix + org)
	if err != nil {
		return nil, fmt.Errorf("client monitoring: reading the table of org %s: %w", org, err)
	}
	if found {
		var st storedTable
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("client monitoring: reading the table of org %s (%s%s): %w", org, tablePrefix, org, err)
		}
		t.version = st.Version
		for name, at := range st.Removed {
			t.removed[name] = at
		}
		for _, se := range st.Entries {
			e := &Entry{Artifact: se.Artifact, Label: se.Label}
			if len(se.Parameters) > 0 && string(se.Parameters) != "null" {
				v, err := value.DecodeJSON(se.Parameters)
				d, ok := v.(*ordereddict.Dict)
				if err != nil || !ok {
					return nil, fmt.Errorf("client monitoring: reading the table of org %s: parameters of %s are not a dict", org, se.Artifact)
				}
				e.Parameters = d
			}
			t.entries[keyOf(e.Artifact, e.Label)] = e
		}
	}
	s.tables[org] = t
	return t, nil
}

// saveLocked stores an org's table; an empty table keeps its version, so
// that get_client_monitoring's version never goes back. s.mu is held.
func (s *Service) saveLocked(org string, t *table) error {
	st := storedTable{Version: t.version, Entries: make([]storedEntry, 0, len(t.entries)), Removed: map[string]time.Time{}}
	for name, at := range t.removed {
		if time.Since(at) < RemovedGrace { // older ones are forgotten
			st.Removed[name] = at
		}
	}
	for _, e := range t.entries {
		se := storedEntry{Artifact: e.Artifact, Label: e.Label}
		if e.Parameters != nil {
			b, err := value.EncodeJSON(e.Parameters)
			if err != nil {
				return fmt.Errorf("client monitoring: parameters of %s cannot be stored: %w", e.Artifact, err)
			}
			se.Parameters = b
		}
		st.Entries = append(st.Entries, se)
	}
	sort.Slice(st.Entries, func(i, j int) bool {
		a, b := st.Entries[i], st.Entries[j]
		if la, lb := strings.ToLower(a.Label), strings.ToLower(b.Label); la != lb {
			return la < lb
		}
		return a.Artifact < b.Artifact
	})
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("client monitoring: storing the table of org %s: %w", org, err)
	}
	if err := s.kv.Put(tablePrefix+org, b); err != nil {
		return fmt.Errorf("client monitoring: storing the table of org %s: %w", org, err)
	}
	return nil
}
