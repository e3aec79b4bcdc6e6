package vqlq_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
)

// How a run of an artifact ended, judged by the ERROR messages it logged:
// the first two say vqlq lacks vocabulary the artifact needs, the others
// that it ran into some other failure (a fresh data folder has no
// clients, flows or uploads; the test denies the network).
const (
	runClean       = "clean"
	runMissingCall = "missing plugin/function"
	runMissingName = "missing field/parameter"
	runOtherError  = "other runtime errors"
	// runNetwork: the artifact reaches out over the network (a web hook,
	// an enrichment service), which the test denies; its other errors
	// may follow from that.
	runNetwork = "network denied"
	// runNothing: no source has a query (only notebook cells, a report,
	// or a queue's definition), so the artifact is not run.
	runNothing = "no query to run"
)

var runClasses = []string{runClean, runMissingCall, runMissingName, runNetwork, runOtherError}

// hasQuery reports whether any source of a has VQL to run.
func hasQuery(a *artifacts.Artifact) bool {
	for _, s := range a.Sources {
		if strings.TrimSpace(s.Query) != "" {
			return true
		}
	}
	return false
}

// missingCall and missingName recognise the engine's messages for a
// plugin or function it lacks, and for a name (a variable, an argument,
// an artifact parameter) a query uses that nothing defines.
var (
	missingCall = regexp.MustCompile(`(Plugin|Function) \S+ not found|is not a function but it is being called`)
	missingName = regexp.MustCompile(`Symbol \S+ not found|Unexpected arg|Field \S+ is required|unknown parameter`)
	network     = regexp.MustCompile(`permission denied: .* lacks ` + string(vql.PermNetwork))
)

// classifyRun sorts one artifact's ERROR messages into the worst class
// they show: missing vocabulary first, then any other error.
func classifyRun(errs []string) string {
	class := runClean
	for _, e := range errs {
		switch {
		case missingCall.MatchString(e):
			return runMissingCall
		case missingName.MatchString(e):
			class = runMissingName
		case network.MatchString(e):
			if class != runMissingName {
				class = runNetwork
			}
		case class == runClean:
			class = runOtherError
		}
	}
	return class
}

func TestClassifyRun(t *testing.T) {
	for _, c := range []struct {
		errs []string
		want string
	}{
		{nil, runClean},
		{[]string{"Plugin clients not found."}, runMissingCall},
		{[]string{"Function client_info not found. (did you mean client_id?)"}, runMissingCall},
		{[]string{"Symbol Foo not found"}, runMissingName},
		{[]string{"parse_csv: Unexpected arg separator"}, runMissingName},
		{[]string{"Artifact.X: unknown parameter Y"}, runMissingName},
		{[]string{"http_client: dial tcp: no route"}, runOtherError},
		{[]string{"http_client: no route", "Symbol A not found"}, runMissingName},
		{[]string{"Symbol A not found", "Plugin p not found."}, runMissingCall},
		{[]string{"http_client: permission denied: server (owner) lacks NETWORK", "parse_json: EOF"}, runNetwork},
		{[]string{"parse_json: EOF", "http_client: permission denied: server (owner) lacks NETWORK"}, runNetwork},
		{[]string{"Symbol A not found", "http_client: permission denied: server (owner) lacks NETWORK"}, runMissingName},
	} {
		if got := classifyRun(c.errs); got != c.want {
			t.Errorf("%q: %s, want %s", c.errs, got, c.want)
		}
	}
}

// artifactRun is what one artifact's run logged.
type artifactRun struct {
	name  string
	class string
	errs  []string
}

// runBound stops an artifact that waits on something a fresh data folder
// never provides (a flow, an event). It bounds the test; nothing is
// judged by it: a run stopped at the bound is judged by its errors.
const runBound = 5 * time.Second

// eventBound is how long a SERVER_EVENT artifact, which never ends by
// itself, runs: long enough to start its sources and log what they lack.
const eventBound = time.Second

// TestVelociraptorArtifactsRun: every SERVER and NOTEBOOK artifact of
// Velociraptor's library that loads runs its sources, with default
// parameters, against a fresh data folder (a real badger store), the
// network denied; SERVER_EVENT artifacts run for eventBound. The ERROR
// messages of each run say whether vqlq lacks something the artifact
// calls or names. The summary line gives the counts (-v lists each
// artifact that is not clean); the floor is what the engine reaches
// today, so that a regression fails. CLIENT artifacts are for clients
// and not run.
func TestVelociraptorArtifactsRun(t *testing.T) {
	lib := velociraptorArtifacts(t)
	flags := &runner.StoreFlags{DataDir: filepath.Join(t.TempDir(), "data"), Definitions: lib,
		Org: queues.DefaultOrg, Sync: "none", Retention: time.Hour}
	report, err := flags.Check()
	if err != nil {
		t.Fatal(err)
	}
	b := &runner.Backend{Flags: flags}
	defer b.Close()
	m, err := b.Manager()
	if err != nil {
		t.Fatal(err)
	}
	var runs, events tally
	nothing := 0
	for _, a := range m.Repository().List(queues.DefaultOrg) {
		if a.BuiltIn || !a.RunsOnServer() || a.Type == artifacts.TypeInternal {
			continue
		}
		if !hasQuery(a) {
			nothing++
			continue
		}
		switch a.Type {
		case artifacts.TypeServer, artifacts.TypeNotebook:
			runs.add(runArtifact(t, b, a.Name, runBound))
		case artifacts.TypeServerEvent:
			// Endless: run for a while, judged by its errors.
			events.add(runArtifact(t, b, a.Name, eventBound))
		}
	}
	for _, r := range append(runs.runs, events.runs...) {
		if r.class != runClean {
			t.Logf("%s: %s: %s", r.name, r.class, strings.Join(r.errs, " | "))
		}
	}
	t.Logf("velociraptor-artifacts: %d loaded, %d server-side with %s, %d run, %s; %d SERVER_EVENT run for %v: %s",
		report.Loaded, nothing, runNothing, len(runs.runs), runs, len(events.runs), eventBound, events)
	// What the engine reaches today (see the README's "Using your
	// Velociraptor artifacts").
	const floorRuns, floorClean, floorEventsClean = 31, 14, 14
	if len(runs.runs) < floorRuns || runs.counts[runClean] < floorClean || events.counts[runClean] < floorEventsClean {
		t.Errorf("%d run, %d clean, %d event artifacts clean; the engine reached %d, %d, %d",
			len(runs.runs), runs.counts[runClean], events.counts[runClean], floorRuns, floorClean, floorEventsClean)
	}
	// The load's check leaves out what calls a plugin or function vqlq
	// lacks, so no artifact that loads should run into one.
	for _, r := range append(runs.runs, events.runs...) {
		if r.class == runMissingCall || r.class == runMissingName {
			t.Errorf("%s loaded, yet its run lacks vocabulary: %s", r.name, strings.Join(r.errs, " | "))
		}
	}
}

// tally counts runs by class.
type tally struct {
	runs   []artifactRun
	counts map[string]int
}

func (t *tally) add(r artifactRun) {
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.runs = append(t.runs, r)
	t.counts[r.class]++
}

// String gives every class's count, in a fixed order.
func (t tally) String() string {
	parts := make([]string, len(runClasses))
	for i, c := range runClasses {
		parts[i] = fmt.Sprintf("%d %s", t.counts[c], c)
	}
	return strings.Join(parts, ", ")
}

// runArtifact runs one artifact in a session of its own and collects its
// ERROR messages.
func runArtifact(t *testing.T, b *runner.Backend, name string, bound time.Duration) artifactRun {
	var mu sync.Mutex
	var errs []string
	// The owner's rights but the network's, running programs and writing
	// files (vqlq --deny NETWORK,EXECVE,FILESYSTEM_WRITE): nothing leaves
	// the machine and nothing on it changes.
	id := b.Owner(queues.DefaultOrg)
	id.Denied = []vql.Permission{vql.PermNetwork, vql.PermExecve, vql.PermFilesystemWrite}
	sess := b.Engine().NewSession(vql.SessionOptions{Identity: id,
		OnLog: func(msg vql.Message) {
			if msg.Level == vql.LevelError {
				mu.Lock()
				errs = append(errs, msg.Text)
				mu.Unlock()
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	rows, err := sess.RunText(ctx, fmt.Sprintf("SELECT * FROM Artifact.%s()", name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for range rows {
	}
	mu.Lock()
	defer mu.Unlock()
	return artifactRun{name: name, class: classifyRun(errs), errs: errs}
}
