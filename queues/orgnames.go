package queues

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// An org comes to exist when it first stores events or artifacts, and has
// no name of its own then; org_create() makes one on purpose, with a name
// that orgs() and org() show. The names are kept beside the org marks.

const orgNameKey = "org-names/"

// orgCreateMu makes checking that an id is free and taking it one step:
// only one process opens a store, so a lock in the process is enough.
var orgCreateMu sync.Mutex

// OrgRecord is a created org.
type OrgRecord struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// CreateOrg creates an org with a name. The id must be valid (CheckOrg)
// and not one in use: an org that exists already is an error naming it.
func (m *Manager) CreateOrg(id, name string) (OrgRecord, error) {
	if err := CheckOrg(id); err != nil {
		return OrgRecord{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return OrgRecord{}, fmt.Errorf("an org needs a name")
	}
	orgCreateMu.Lock()
	defer orgCreateMu.Unlock()
	if slices.Contains(m.Orgs(), id) {
		return OrgRecord{}, fmt.Errorf("org %s exists already", id)
	}
	if _, found, err := m.kv.Get(orgNameKey + id); err != nil {
		return OrgRecord{}, err
	} else if found {
		return OrgRecord{}, fmt.Errorf("org %s exists already", id)
	}
	rec := OrgRecord{ID: id, Name: name, Created: m.now().UTC()}
	data, err := json.Marshal(rec)
	if err != nil {
		return OrgRecord{}, err
	}
	if err := m.kv.Put(orgNameKey+id, data); err != nil {
		return OrgRecord{}, err
	}
	m.recordOrg(id)
	return rec, nil
}

// OrgName is the name an org was created with, or its id when it was
// never given one.
func (m *Manager) OrgName(id string) string {
	data, found, err := m.kv.Get(orgNameKey + id)
	if err != nil || !found {
		return id
	}
	var rec OrgRecord
	if json.Unmarshal(data, &rec) != nil || rec.Name == "" {
		return id
	}
	return rec.Name
}
