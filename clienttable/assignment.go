package clienttable

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql/value"
)

// Assignment is what one client runs: the artifacts of its org's table
// that concern it, with everything it needs to load them.
type Assignment struct {
	// Version is a hash of Artifacts and Skipped: the same table and
	// definitions give the same string, so a client (or the endpoint
	// serving it) can tell whether anything changed.
	Version string `json:"version"`
	// Artifacts are sorted by name, one per artifact.
	Artifacts []Assigned `json:"artifacts"`
	// Skipped says which entries concern the client but cannot be sent,
	// and why (the artifact was deleted, or is no longer a CLIENT_EVENT
	// artifact), one message each.
	Skipped []string `json:"skipped,omitempty"`
}

// Assigned is one artifact a client runs.
type Assigned struct {
	Artifact string
	// Parameters are the entry's (nil: the artifact's defaults).
	Parameters *ordereddict.Dict
	// Definitions are the YAML texts the client loads into its own
	// repository: the artifact's own first, then those of every artifact
	// it depends on, directly or not (imports, Artifact.X() calls), as
	// the org sees them now. Built-in artifacts are left out: every vqlq
	// has them, and they cannot be replaced.
	Definitions []string
}

// assignedJSON is Assigned on the wire; parameters go through
// value.EncodeJSON and DecodeJSON, which keep their order and types.
type assignedJSON struct {
	Artifact    string          `json:"artifact"`
	Parameters  json.RawMessage `json:"parameters"`
	Definitions []string        `json:"definitions"`
}

// MarshalJSON writes {"artifact", "parameters" (an object, {} for the
// defaults), "definitions"}.
func (a Assigned) MarshalJSON() ([]byte, error) {
	params, err := value.EncodeJSON(paramsOrEmpty(a.Parameters))
	if err != nil {
		return nil, fmt.Errorf("parameters of %s: %w", a.Artifact, err)
	}
	defs := a.Definitions
	if defs == nil {
		defs = []string{}
	}
	return json.Marshal(assignedJSON{Artifact: a.Artifact, Parameters: params, Definitions: defs})
}

// UnmarshalJSON reads what MarshalJSON wrote (the client's side); empty
// parameters read as nil, the defaults.
func (a *Assigned) UnmarshalJSON(b []byte) error {
	var w assignedJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Assigned{Artifact: w.Artifact, Definitions: w.Definitions}
	if len(w.Parameters) == 0 || string(w.Parameters) == "null" {
		return nil
	}
	v, err := value.DecodeJSON(w.Parameters)
	if err != nil {
		return fmt.Errorf("parameters of %s: %w", w.Artifact, err)
	}
	d, ok := v.(*ordereddict.Dict)
	if !ok {
		return fmt.Errorf("parameters of %s: not an object", w.Artifact)
	}
	if d.Len() > 0 {
		a.Parameters = d
	}
	return nil
}

// For resolves what one client with these labels runs: the entries with
// no label and those with a label the client has (case-insensitive).
// When an artifact has entries for several of them, the most specific
// wins: a label's entry over every client's, and of several labels the
// first in sort order, so that labelling a group of clients can change
// the parameters they run an artifact with. Definitions are read now, so
// a changed definition shows at the next call.
func (s *Service) For(org string, labels []string) (Assignment, error) {
	entries, _, err := s.snapshot(org)
	if err != nil {
		return Assignment{}, err
	}
	has := map[string]bool{}
	for _, l := range labels {
		has[strings.ToLower(strings.TrimSpace(l))] = true
	}
	chosen := map[string]Entry{}
	for _, e := range entries { // every client's first, then by label
		if e.Label != "" && !has[strings.ToLower(e.Label)] {
			continue
		}
		if prev, ok := chosen[e.Artifact]; ok && prev.Label != "" {
			continue // an earlier label's entry stays
		}
		chosen[e.Artifact] = e
	}
	names := make([]string, 0, len(chosen))
	for n := range chosen {
		names = append(names, n)
	}
	sort.Strings(names)
	out := Assignment{Artifacts: []Assigned{}}
	repo := s.m.Repository()
	for _, n := range names {
		e := chosen[n]
		if _, err := s.check(org, n); err != nil {
			out.Skipped = append(out.Skipped, err.Error())
			continue
		}
		list, _ := repo.Closure(org, n) // a missing dependency fails on the client, which reports it
		var defs []string
		for _, a := range list {
			if !a.BuiltIn {
				defs = append(defs, a.Text)
			}
		}
		out.Artifacts = append(out.Artifacts, Assigned{Artifact: n, Parameters: e.Parameters, Definitions: defs})
	}
	v, err := version(out)
	if err != nil {
		return Assignment{}, err
	}
	out.Version = v
	return out, nil
}

// version hashes an assignment's content.
func version(a Assignment) (string, error) {
	b, err := json.Marshal(struct {
		Artifacts []Assigned `json:"artifacts"`
		Skipped   []string   `json:"skipped"`
	}{a.Artifacts, a.Skipped})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// Next waits until what a client with these labels runs differs from
// version — the org's table changed, or a definition the org sees was
// set or deleted — and returns the new assignment. It returns at once if
// it already differs, and ctx's error when ctx ends first. It is the
// server half of a long poll; the caller ends it (ctx) when the client's
// labels change.
func (s *Service) Next(ctx context.Context, org string, labels []string, version string) (Assignment, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defs := make(chan struct{}, 1)
	// Watch the definitions before reading them, so that a change in
	// between is not missed.
	if seq, err := s.m.Watch(wctx, org, queues.ArtifactModificationQueue, queues.WatchOptions{Describe: "client monitoring: a client waiting for its event table"}); err == nil {
		done := make(chan struct{})
		defer func() { cancel(); <-done }()
		go func() {
			defer close(done)
			for range seq {
				select {
				case defs <- struct{}{}:
				default:
				}
			}
		}()
	}
	for {
		changed := s.Changed(org)
		a, err := s.For(org, labels)
		if err != nil || a.Version != version {
			return a, err
		}
		select {
		case <-changed:
		case <-defs:
		case <-ctx.Done():
			return Assignment{}, ctx.Err()
		}
	}
}
