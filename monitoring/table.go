package monitoring

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// tablePrefix starts the store key of every org's table: monitoring/<org>.
const tablePrefix = "monitoring/"

// storedTable is a table as kept in the store (JSON).
type storedTable struct {
	Entries []storedEntry `json:"entries"`
}

type storedEntry struct {
	Artifact   string          `json:"artifact"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// tableLocked returns an org's table, reading it from the store the first
// time. s.mu is held.
func (s *Service) tableLocked(org string) (map[string]*entry, error) {
	if t, ok := s.tables[org]; ok {
		return t, nil
	}
	t := map[string]*entry{}
	b, found, err := s.kv.Get(tablePrefix + org)
	if err != nil {
		return nil, fmt.Errorf("monitoring: reading the table of org %s: %w", org, err)
	}
	if found {
		var st storedTable
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("monitoring: reading the table of org %s (%s%s): %w", org, tablePrefix, org, err)
		}
		for _, se := range st.Entries {
			e := s.newEntry(org, se.Artifact)
			if len(se.Parameters) > 0 && string(se.Parameters) != "null" {
				v, err := value.DecodeJSON(se.Parameters)
				d, ok := v.(*ordereddict.Dict)
				if err != nil || !ok {
					return nil, fmt.Errorf("monitoring: reading the table of org %s: parameters of %s are not a dict", org, se.Artifact)
				}
				e.params = d
			}
			t[se.Artifact] = e
		}
	}
	s.tables[org] = t
	return t, nil
}

// saveLocked stores an org's table; an empty table is deleted. s.mu is
// held.
func (s *Service) saveLocked(org string) error {
	t := s.tables[org]
	if len(t) == 0 {
		if err := s.kv.Delete(tablePrefix + org); err != nil {
			return fmt.Errorf("monitoring: storing the table of org %s: %w", org, err)
		}
		return nil
	}
	st := storedTable{Entries: make([]storedEntry, 0, len(t))}
	for _, e := range t {
		se := storedEntry{Artifact: e.artifact}
		if e.params != nil {
			b, err := value.EncodeJSON(e.params)
			if err != nil {
				return fmt.Errorf("monitoring: parameters of %s cannot be stored: %w", e.artifact, err)
			}
			se.Parameters = b
		}
		st.Entries = append(st.Entries, se)
	}
	sort.Slice(st.Entries, func(i, j int) bool { return st.Entries[i].Artifact < st.Entries[j].Artifact })
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("monitoring: storing the table of org %s: %w", org, err)
	}
	if err := s.kv.Put(tablePrefix+org, b); err != nil {
		return fmt.Errorf("monitoring: storing the table of org %s: %w", org, err)
	}
	return nil
}

// paramText renders parameters for the log.
func paramText(params *ordereddict.Dict) string {
	if params == nil || params.Len() == 0 {
		return "(defaults)"
	}
	b, err := value.EncodeJSON(params)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}
