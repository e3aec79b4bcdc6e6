package flows

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// DefaultHuntExpiry is how long a hunt runs when no expiry is given:
// Velociraptor's week.
const DefaultHuntExpiry = 7 * 24 * time.Hour

// huntRequest is a hunt as hunt() asks for it.
type huntRequest struct {
	request
	description string
	expires     time.Time
	paused      bool
	include     []string
	exclude     []string
	os          string
	tags        []string
}

// CreateHunt records a hunt and, unless it is paused, schedules a flow of
// its artifacts on every client its conditions match now.
func (s *Service) createHunt(scope *vql.Scope, m *queues.Manager, hr huntRequest) (*Hunt, error) {
	if _, err := resolve(m, hr.org, "", hr.artifacts); err != nil {
		return nil, err
	}
	now := s.now()
	if hr.expires.IsZero() {
		hr.expires = now.Add(DefaultHuntExpiry)
	}
	if !hr.expires.After(now) {
		return nil, fmt.Errorf("expires %s is in the past: the hunt would never run", hr.expires.UTC().Format(time.RFC3339))
	}
	id := newID("H.")
	hr.huntID = id
	h := &Hunt{HuntID: id, Description: hr.description, Creator: hr.creator, CreateTime: micros(now),
		Expires: micros(hr.expires), State: HuntRunning, Artifacts: hr.artifacts, StartRequest: buildRequest(hr.request),
		Condition: Condition{IncludeLabels: hr.include, ExcludeLabels: hr.exclude, OS: hr.os}, Tags: orNone(hr.tags)}
	h.StartRequest.ClientID = ""
	if hr.paused {
		h.State = HuntPaused
	} else {
		h.StartTime = micros(now)
	}
	recordsMu.Lock()
	err := putJSON(m.Storage(), huntKey(hr.org, id), h)
	recordsMu.Unlock()
	if err != nil {
		return nil, err
	}
	if h.State == HuntRunning {
		if err := s.scheduleMatching(scope, m, hr.org, h); err != nil {
			return h, err
		}
	}
	return s.Hunt(m, hr.org, id)
}

func orNone(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Hunt reads a hunt's record.
func (s *Service) Hunt(m *queues.Manager, org, id string) (*Hunt, error) {
	if err := checkID("hunt_id", id); err != nil {
		return nil, err
	}
	var h Hunt
	if err := getJSON(m.Storage(), huntKey(org, id), &h); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("hunt %s is not known in org %s", id, org)
		}
		return nil, err
	}
	return &h, nil
}

// Hunts lists the org's hunts, newest first.
func (s *Service) Hunts(m *queues.Manager, org string) ([]*Hunt, error) {
	var out []*Hunt
	err := m.Storage().Scan(huntPrefix+org+"/", func(_ string, v []byte) error {
		var h Hunt
		if jsonUnmarshal(v, &h) == nil {
			out = append(out, &h)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreateTime > out[j].CreateTime })
	return out, err
}

// huntEntry is one client of a hunt and the flow it has.
type huntEntry struct{ client, flow string }

// huntEntries lists a hunt's clients and their flows, by client id.
func (s *Service) huntEntries(m *queues.Manager, org, id string) ([]huntEntry, error) {
	prefix := huntFlowPrefix + org + "/" + id + "/"
	var out []huntEntry
	err := m.Storage().Scan(prefix, func(k string, v []byte) error {
		var flow string
		if jsonUnmarshal(v, &flow) == nil {
			out = append(out, huntEntry{client: strings.TrimPrefix(k, prefix), flow: flow})
		}
		return nil
	})
	return out, err
}

// huntFlowRequest is the request of a hunt's flow on one client.
func huntFlowRequest(org string, h *Hunt, client string) request {
	r := request{org: org, client: client, creator: h.HuntID, artifacts: h.StartRequest.Artifacts, huntID: h.HuntID,
		params: map[string]*ordereddict.Dict{}, timeout: h.StartRequest.Timeout, maxRows: h.StartRequest.MaxRows,
		maxByte: h.StartRequest.MaxBytes, urgent: h.StartRequest.Urgent}
	for _, spec := range h.StartRequest.Specs {
		d := ordereddict.NewDict()
		for _, e := range spec.Parameters.Env {
			d.Set(e.Key, e.Value)
		}
		r.params[spec.Artifact] = d
	}
	return r
}

// scheduleMatching schedules the hunt on each client its conditions match
// that it has not been scheduled on yet.
func (s *Service) scheduleMatching(scope *vql.Scope, m *queues.Manager, org string, h *Hunt) error {
	clients, err := s.clients.Matching(org, h.Condition.IncludeLabels, h.Condition.ExcludeLabels, h.Condition.OS)
	if err != nil {
		return err
	}
	entries, err := s.huntEntries(m, org, h.HuntID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.client] = true
	}
	var errs []error
	for _, c := range clients {
		if have[c] || c == ServerID {
			continue
		}
		if _, err := s.scheduleOn(scope, m, org, h.HuntID, c); err != nil {
			errs = append(errs, fmt.Errorf("client %s: %w", c, err))
		}
	}
	return errors.Join(errs...)
}

// scheduleOn starts the hunt's flow on a client and records it in the
// hunt.
func (s *Service) scheduleOn(scope *vql.Scope, m *queues.Manager, org, huntID, client string) (*Flow, error) {
	h, err := s.Hunt(m, org, huntID)
	if err != nil {
		return nil, err
	}
	f, err := s.startFlow(scope, m, huntFlowRequest(org, h, client))
	if err != nil {
		return nil, err
	}
	return f, s.addEntry(m, org, huntID, client, f.SessionID)
}

// addEntry records a client's flow in a hunt and counts it.
func (s *Service) addEntry(m *queues.Manager, org, huntID, client, flow string) error {
	recordsMu.Lock()
	defer recordsMu.Unlock()
	var h Hunt
	if err := getJSON(m.Storage(), huntKey(org, huntID), &h); err != nil {
		return err
	}
	var old string
	if getJSON(m.Storage(), huntFlowKey(org, huntID, client), &old) != nil {
		h.Stats.TotalClientsScheduled++
	}
	if err := putJSON(m.Storage(), huntFlowKey(org, huntID, client), flow); err != nil {
		return err
	}
	return putJSON(m.Storage(), huntKey(org, huntID), &h)
}

// addToHunt adds a client to a hunt, whatever its conditions and state:
// with flow an existing flow of the client is added, without it a new
// flow is scheduled — unless the client is in the hunt already and
// relaunch is false.
func (s *Service) addToHunt(scope *vql.Scope, m *queues.Manager, org, huntID, client, flow string, relaunch bool) (string, error) {
	if _, err := s.Hunt(m, org, huntID); err != nil {
		return "", err
	}
	if err := checkID("client_id", client); err != nil {
		return "", err
	}
	if flow != "" {
		f, err := s.Flow(m, org, client, flow)
		if err != nil {
			return "", err
		}
		recordsMu.Lock()
		f.HuntID = huntID
		err = s.save(m, org, f)
		recordsMu.Unlock()
		if err != nil {
			return "", err
		}
		return flow, s.addEntry(m, org, huntID, client, flow)
	}
	if client == ServerID {
		return "", errors.New("a hunt collects from clients, not from the server")
	}
	var have string
	if !relaunch && getJSON(m.Storage(), huntFlowKey(org, huntID, client), &have) == nil {
		return have, nil
	}
	f, err := s.scheduleOn(scope, m, org, huntID, client)
	if err != nil {
		return "", err
	}
	return f.SessionID, nil
}

// huntChange is what hunt_update() changes; nil fields stay.
type huntChange struct {
	state       string
	description *string
	expires     time.Time
	addTags     []string
	delTags     []string
}

// updateHunt changes a hunt; a paused hunt that starts is scheduled on
// the clients it matches.
func (s *Service) updateHunt(scope *vql.Scope, m *queues.Manager, org, id string, c huntChange) (*Hunt, error) {
	recordsMu.Lock()
	h, err := s.Hunt(m, org, id)
	if err != nil {
		recordsMu.Unlock()
		return nil, err
	}
	started := false
	if c.state != "" && c.state != h.State {
		if h.State == HuntStopped && c.state == HuntRunning {
			recordsMu.Unlock()
			return nil, fmt.Errorf("hunt %s is stopped; a stopped hunt does not start again", id)
		}
		started = c.state == HuntRunning
		expires := h.Expires
		if !c.expires.IsZero() {
			expires = micros(c.expires)
		}
		if started && expires <= micros(s.now()) {
			recordsMu.Unlock()
			return nil, fmt.Errorf("hunt %s expires at %s, which is past; give a later expires= to start it", id, time.UnixMicro(expires).UTC().Format(time.RFC3339))
		}
		h.State = c.state
		if started && h.StartTime == 0 {
			h.StartTime = micros(s.now())
		}
	}
	if c.description != nil {
		h.Description = *c.description
	}
	if !c.expires.IsZero() {
		h.Expires = micros(c.expires)
	}
	for _, t := range c.addTags {
		if !slices.Contains(h.Tags, t) {
			h.Tags = append(h.Tags, t)
		}
	}
	h.Tags = slices.DeleteFunc(orNone(h.Tags), func(t string) bool { return slices.Contains(c.delTags, t) })
	err = putJSON(m.Storage(), huntKey(org, id), h)
	recordsMu.Unlock()
	if err != nil {
		return nil, err
	}
	if started {
		if err := s.scheduleMatching(scope, m, org, h); err != nil {
			return nil, err
		}
	}
	return s.Hunt(m, org, id)
}

// deleteHunt removes a hunt with its flows and their files; with really
// false it lists what would go. Rows are delete_flow's, with HuntId.
func (s *Service) deleteHunt(m *queues.Manager, store FileStore, hasStore bool, org, id string, really bool) ([]*ordereddict.Dict, error) {
	if _, err := s.Hunt(m, org, id); err != nil {
		return nil, err
	}
	entries, err := s.huntEntries(m, org, id)
	if err != nil {
		return nil, err
	}
	var rows []*ordereddict.Dict
	for _, e := range entries {
		got, err := s.DeleteFlow(m, store, hasStore, org, e.client, e.flow, really)
		if err != nil {
			rows = append(rows, ordereddict.NewDict().Set("HuntId", id).Set("ClientId", e.client).Set("FlowId", e.flow).
				Set("Type", "CollectionContext").Set("Data", ordereddict.NewDict().Set("VFSPath", flowKey(org, e.client, e.flow))).
				Set("Error", err.Error()))
			continue
		}
		for _, r := range got {
			rows = append(rows, ordereddict.NewDict().Set("HuntId", id).Set("ClientId", e.client).Set("FlowId", e.flow).
				Set("Type", mustGet(r, "Type")).Set("Data", mustGet(r, "Data")).Set("Error", mustGet(r, "Error")))
		}
		if really {
			_ = m.Storage().Delete(huntFlowKey(org, id, e.client))
		}
	}
	var herr error
	if really {
		recordsMu.Lock()
		herr = m.Storage().Delete(huntKey(org, id))
		recordsMu.Unlock()
	}
	msg := ""
	if herr != nil {
		msg = herr.Error()
	}
	rows = append(rows, ordereddict.NewDict().Set("HuntId", id).Set("ClientId", "").Set("FlowId", "").
		Set("Type", "Hunt").Set("Data", ordereddict.NewDict().Set("VFSPath", huntKey(org, id))).Set("Error", msg))
	return rows, nil
}

func mustGet(d *ordereddict.Dict, key string) any {
	v, _ := d.Get(key)
	return v
}
