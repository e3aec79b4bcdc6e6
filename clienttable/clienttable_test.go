package clienttable_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/clienttable"
	"github.com/vqlq/vqlq/internal/queuetest"
)

// hang bounds every wait for something that should happen at once.
const hang = 10 * time.Second

const (
	procDef = `name: Custom.Proc
type: CLIENT_EVENT
imports: [Custom.Lib]
parameters:
  - name: Period
    default: "1"
sources:
  - query: SELECT * FROM Artifact.Custom.Helper()
`
	helperDef = "name: Custom.Helper\nsources:\n  - query: SELECT X FROM scope()\n"
	libDef    = "name: Custom.Lib\nexport: LET X = 1\n"
	authDef   = "name: Custom.Auth\ntype: client_event\nparameters:\n  - name: Path\nsources:\n  - query: SELECT Path FROM scope()\n"
	collect   = "name: Custom.Collect\nsources:\n  - query: SELECT 1 FROM scope()\n"
	serverEv  = "name: Custom.Server\ntype: SERVER_EVENT\nsources:\n  - query: SELECT 1 FROM scope()\n"
	emptyEv   = "name: Custom.Empty\ntype: CLIENT_EVENT\n"
)

var defs = map[string]string{
	"proc.yaml": procDef, "helper.yaml": helperDef, "lib.yaml": libDef, "auth.yaml": authDef,
	"collect.yaml": collect, "server.yaml": serverEv, "empty.yaml": emptyEv,
}

func params(kv ...string) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		d.Set(kv[i], kv[i+1])
	}
	return d
}

// show renders entries as `label:artifact{params}`, for comparisons.
func show(entries []clienttable.Entry) []string {
	var out []string
	for _, e := range entries {
		p := "{}"
		if e.Parameters != nil {
			b, _ := json.Marshal(e.Parameters)
			p = string(b)
		}
		out = append(out, e.Label+":"+e.Artifact+p)
	}
	return out
}

func mustAdd(t *testing.T, s *clienttable.Service, org string, e clienttable.Entry) {
	t.Helper()
	if err := s.Add(org, e); err != nil {
		t.Fatalf("Add(%+v): %v", e, err)
	}
}

func TestAddReplaceRemove(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	if s != clienttable.Of(inst.M) {
		t.Fatal("Of gives two tables for one manager")
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"empty", func() error { return nil }, nil},
		{"add for all", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc"})
		}, []string{":Custom.Proc{}"}},
		{"add for a label", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc", Label: "Web", Parameters: params("Period", "5")})
		}, []string{":Custom.Proc{}", "Web:Custom.Proc{\"Period\":\"5\"}"}},
		{"same artifact and label (any case) replaces", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc", Label: "web", Parameters: params("Period", "9")})
		}, []string{":Custom.Proc{}", "web:Custom.Proc{\"Period\":\"9\"}"}},
		{"'all' is every client", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc", Label: "ALL", Parameters: params("Period", "2")})
		}, []string{":Custom.Proc{\"Period\":\"2\"}", "web:Custom.Proc{\"Period\":\"9\"}"}},
		{"another artifact", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Auth", Parameters: params("Path", "/var/log/auth.log")})
		}, []string{":Custom.Auth{\"Path\":\"/var/log/auth.log\"}", ":Custom.Proc{\"Period\":\"2\"}", "web:Custom.Proc{\"Period\":\"9\"}"}},
		{"remove a label's entry", func() error {
			ok, err := s.Remove("root", "Custom.Proc", "WEB")
			if err == nil && !ok {
				err = fmt.Errorf("nothing removed")
			}
			return err
		}, []string{":Custom.Auth{\"Path\":\"/var/log/auth.log\"}", ":Custom.Proc{\"Period\":\"2\"}"}},
		{"removing what is not there", func() error {
			ok, err := s.Remove("root", "Custom.Proc", "db")
			if err == nil && ok {
				err = fmt.Errorf("removed something")
			}
			return err
		}, []string{":Custom.Auth{\"Path\":\"/var/log/auth.log\"}", ":Custom.Proc{\"Period\":\"2\"}"}},
		{"remove every client's", func() error {
			_, err := s.Remove("root", "Custom.Proc", "")
			return err
		}, []string{":Custom.Auth{\"Path\":\"/var/log/auth.log\"}"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.Entries("root")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(show(got), st.want) {
			t.Errorf("%s: entries %q, want %q", st.name, show(got), st.want)
		}
	}
	// Orgs are separate.
	if got, _ := s.Entries("acme"); len(got) != 0 {
		t.Errorf("acme: %q", show(got))
	}
	// Entries are copies: changing one changes nothing.
	got, _ := s.Entries("root")
	got[0].Parameters.Set("Path", "changed")
	if again, _ := s.Entries("root"); show(again)[0] != ":Custom.Auth{\"Path\":\"/var/log/auth.log\"}" {
		t.Errorf("Entries shares its values: %q", show(again))
	}
}

func TestAddRefused(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	for _, tc := range []struct {
		org  string
		e    clienttable.Entry
		want string
	}{
		{"root", clienttable.Entry{Artifact: "Custom.Nope"}, "artifact Custom.Nope not known"},
		{"root", clienttable.Entry{Artifact: "Custom.Collect"}, "Custom.Collect is a CLIENT artifact; the client event table holds only CLIENT_EVENT artifacts"},
		{"root", clienttable.Entry{Artifact: "Custom.Server"}, "Custom.Server is a SERVER_EVENT artifact; the client event table holds only CLIENT_EVENT artifacts"},
		{"root", clienttable.Entry{Artifact: "Server.Internal.ClientPing"}, "Server.Internal.ClientPing is an INTERNAL artifact; the client event table holds only CLIENT_EVENT artifacts"},
		{"root", clienttable.Entry{Artifact: "Custom.Empty"}, "Custom.Empty has no sources: a client would have no query to run"},
		{"root", clienttable.Entry{Artifact: "Custom.Proc", Parameters: params("Nope", "1")}, "Custom.Proc has no parameter Nope"},
		{"root", clienttable.Entry{}, "no artifact named"},
		{"no/org", clienttable.Entry{Artifact: "Custom.Proc"}, `invalid org id "no/org"`},
	} {
		err := s.Add(tc.org, tc.e)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%s, %+v) = %v, want %q", tc.org, tc.e, err, tc.want)
		}
	}
	if got, _ := s.Entries("root"); len(got) != 0 {
		t.Errorf("a refused entry was kept: %q", show(got))
	}
}

// assigned renders an assignment as `artifact{params}` per artifact.
func assigned(a clienttable.Assignment) []string {
	var out []string
	for _, x := range a.Artifacts {
		p := "{}"
		if x.Parameters != nil {
			b, _ := json.Marshal(x.Parameters)
			p = string(b)
		}
		out = append(out, x.Artifact+p)
	}
	return out
}

func TestForResolvesLabels(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc"})
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc", Label: "Web", Parameters: params("Period", "5")})
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc", Label: "db", Parameters: params("Period", "7")})
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Auth", Label: "Linux", Parameters: params("Path", "/var/log/auth.log")})
	for _, tc := range []struct {
		name   string
		labels []string
		want   []string
	}{
		{"no labels: every client's entries", nil, []string{"Custom.Proc{}"}},
		{"a label no entry names", []string{"windows"}, []string{"Custom.Proc{}"}},
		{"a label's entry wins over every client's", []string{"web"}, []string{"Custom.Proc{\"Period\":\"5\"}"}},
		{"labels match in any case", []string{"LINUX", "WEB"}, []string{"Custom.Auth{\"Path\":\"/var/log/auth.log\"}", "Custom.Proc{\"Period\":\"5\"}"}},
		{"of two labels the first in sort order wins", []string{"web", "db"}, []string{"Custom.Proc{\"Period\":\"7\"}"}},
	} {
		a, err := s.For("root", tc.labels)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(assigned(a), tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, assigned(a), tc.want)
		}
	}
	// The definitions are the artifact's, then what it imports and calls.
	a, _ := s.For("root", nil)
	if want := []string{procDef, libDef, helperDef}; !reflect.DeepEqual(a.Artifacts[0].Definitions, want) {
		t.Errorf("definitions %q, want %q", a.Artifacts[0].Definitions, want)
	}
	if a, _ := s.For("acme", []string{"web"}); len(a.Artifacts) != 0 {
		t.Errorf("acme runs %q", assigned(a))
	}
}

func TestVersion(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	ctx := context.Background()
	version := func() string {
		t.Helper()
		a, err := s.For("root", []string{"web"})
		if err != nil {
			t.Fatal(err)
		}
		return a.Version
	}
	seen := map[string]string{}
	for _, st := range []struct {
		name   string
		do     func() error
		change bool
	}{
		{"empty table", func() error { return nil }, true},
		{"nothing changed", func() error { return nil }, false},
		{"an entry added", func() error { return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc"}) }, true},
		{"the same entry again", func() error { return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc"}) }, false},
		{"another org changed", func() error { return s.Add("acme", clienttable.Entry{Artifact: "Custom.Auth"}) }, false},
		{"an entry for a label the client lacks", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Auth", Label: "db"})
		}, false},
		{"parameters changed", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc", Parameters: params("Period", "3")})
		}, true},
		{"the artifact's definition changed", func() error {
			_, err := inst.M.SetArtifact(ctx, "root", strings.Replace(procDef, `default: "1"`, `default: "2"`, 1), "test")
			return err
		}, true},
		{"a dependency's definition changed", func() error {
			_, err := inst.M.SetArtifact(ctx, "root", strings.Replace(helperDef, "SELECT X", "SELECT X, 2 AS Y", 1), "test")
			return err
		}, true},
		{"an entry removed", func() error { _, err := s.Remove("root", "Custom.Proc", ""); return err }, true},
	} {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		v := version()
		if v2 := version(); v2 != v {
			t.Fatalf("%s: two calls give %s and %s", st.name, v, v2)
		}
		prev, seenBefore := seen["last"]
		if changed := !seenBefore || prev != v; changed != st.change {
			t.Errorf("%s: version %s after %s: changed %v, want %v", st.name, v, prev, changed, st.change)
		}
		seen["last"] = v
	}
	// Back to the empty table: the empty table's version.
	empty, _ := s.For("nobody", nil)
	if got := version(); got != empty.Version {
		t.Errorf("an empty assignment is %s here and %s in an empty org", got, empty.Version)
	}
}

// The version and the definitions follow a deleted artifact: the entry
// is skipped, with the reason.
func TestForSkipsDeletedArtifact(t *testing.T) {
	inst := queuetest.New(t, nil)
	s := clienttable.Of(inst.M)
	ctx := context.Background()
	if _, err := inst.M.SetArtifact(ctx, "root", authDef, "test"); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Auth"})
	before, _ := s.For("root", nil)
	if err := inst.M.DeleteArtifact(ctx, "root", "Custom.Auth", "test"); err != nil {
		t.Fatal(err)
	}
	after, _ := s.For("root", nil)
	if len(after.Artifacts) != 0 || len(after.Skipped) != 1 || !strings.HasPrefix(after.Skipped[0], "artifact Custom.Auth not known") {
		t.Errorf("after delete: %+v", after)
	}
	if after.Version == before.Version {
		t.Error("version unchanged by a deleted artifact")
	}
}

func TestChanged(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	for _, st := range []struct {
		name  string
		org   string
		do    func() error
		fires bool
	}{
		{"add", "root", func() error { return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc"}) }, true},
		{"replace", "root", func() error {
			return s.Add("root", clienttable.Entry{Artifact: "Custom.Proc", Parameters: params("Period", "2")})
		}, true},
		{"refused add", "root", func() error {
			if s.Add("root", clienttable.Entry{Artifact: "Custom.Collect"}) == nil {
				return fmt.Errorf("accepted")
			}
			return nil
		}, false},
		{"another org's add", "root", func() error { return s.Add("acme", clienttable.Entry{Artifact: "Custom.Proc"}) }, false},
		{"removing nothing", "root", func() error { _, err := s.Remove("root", "Custom.Auth", ""); return err }, false},
		{"remove", "root", func() error { _, err := s.Remove("root", "Custom.Proc", ""); return err }, true},
	} {
		ch := s.Changed(st.org)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := closed(ch); got != st.fires {
			t.Errorf("%s: Changed fired %v, want %v", st.name, got, st.fires)
		}
	}
}

func TestTableSurvivesRestart(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc", Label: "Web", Parameters: params("Period", "5")})
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Auth", Parameters: params("Path", "/var/log/secure")})
	mustAdd(t, s, "acme", clienttable.Entry{Artifact: "Custom.Proc"})
	before, _ := s.Entries("root")
	beforeFor, _ := s.For("root", []string{"web"})

	inst.Restart()
	s2 := clienttable.Of(inst.M)
	if s2 == s {
		t.Fatal("a new manager got the old table")
	}
	after, err := s2.Entries("root")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(show(after), show(before)) {
		t.Errorf("after restart %q, before %q", show(after), show(before))
	}
	if acme, _ := s2.Entries("acme"); !reflect.DeepEqual(show(acme), []string{":Custom.Proc{}"}) {
		t.Errorf("acme after restart: %q", show(acme))
	}
	afterFor, _ := s2.For("root", []string{"web"})
	if afterFor.Version != beforeFor.Version {
		t.Errorf("version %s after restart, %s before", afterFor.Version, beforeFor.Version)
	}
	// Removing the last entry is remembered too.
	if _, err := s2.Remove("acme", "Custom.Proc", ""); err != nil {
		t.Fatal(err)
	}
	inst.Restart()
	if acme, _ := clienttable.Of(inst.M).Entries("acme"); len(acme) != 0 {
		t.Errorf("acme after removal and restart: %q", show(acme))
	}
}

func TestAssignmentJSON(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	p := ordereddict.NewDict().Set("Path", "/var/log/auth.log")
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Auth", Parameters: p})
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc"})
	a, _ := s.For("root", nil)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"` + a.Version + `","artifacts":[` +
		`{"artifact":"Custom.Auth","parameters":{"Path":"/var/log/auth.log"},"definitions":[` + quote(authDef) + `]},` +
		`{"artifact":"Custom.Proc","parameters":{},"definitions":[` + quote(procDef) + `,` + quote(libDef) + `,` + quote(helperDef) + `]}]}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back clienttable.Assignment
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != a.Version || !reflect.DeepEqual(assigned(back), assigned(a)) || back.Artifacts[1].Parameters != nil ||
		!reflect.DeepEqual(back.Artifacts[1].Definitions, a.Artifacts[1].Definitions) {
		t.Errorf("round trip: %+v", back)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestNext(t *testing.T) {
	inst := queuetest.New(t, defs)
	s := clienttable.Of(inst.M)
	ctx := context.Background()
	first, _ := s.For("root", nil)

	// A version that is not the current one returns at once.
	if a, err := s.Next(ctx, "root", nil, "stale"); err != nil || a.Version != first.Version {
		t.Fatalf("stale version: %v %+v", err, a)
	}
	// The current one waits: until ctx ends…
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(short, "root", nil, first.Version); err != context.DeadlineExceeded {
		t.Fatalf("no change: %v", err)
	}
	// …until the table changes…
	next := func(version string, change func()) clienttable.Assignment {
		t.Helper()
		got := make(chan clienttable.Assignment, 1)
		errs := make(chan error, 1)
		wctx, cancel := context.WithTimeout(ctx, hang)
		defer cancel()
		go func() {
			a, err := s.Next(wctx, "root", nil, version)
			errs <- err
			got <- a
		}()
		change()
		if err := <-errs; err != nil {
			t.Fatalf("Next: %v", err)
		}
		return <-got
	}
	a := next(first.Version, func() { mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc"}) })
	if !reflect.DeepEqual(assigned(a), []string{"Custom.Proc{}"}) {
		t.Errorf("after add: %q", assigned(a))
	}
	// …or a definition it ships changes.
	b := next(a.Version, func() {
		if _, err := inst.M.SetArtifact(ctx, "root", strings.Replace(libDef, "X = 1", "X = 2", 1), "test"); err != nil {
			t.Fatal(err)
		}
	})
	if b.Version == a.Version || !strings.Contains(b.Artifacts[0].Definitions[1], "X = 2") {
		t.Errorf("after definition change: %+v", b)
	}
}

func TestReportAndLogs(t *testing.T) {
	inst := queuetest.New(t, nil)
	s := clienttable.Of(inst.M)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var msgs []string
	for i := range 150 {
		msgs = append(msgs, fmt.Sprintf("m%d", i))
	}
	s.Report("root", "C.2", []clienttable.Status{{Artifact: "Custom.Proc", State: clienttable.StateRunning, Time: at, Messages: msgs[:20]}})
	s.Report("root", "C.1", []clienttable.Status{
		{Artifact: "Custom.Proc", State: clienttable.StateRunning, Time: at, Messages: msgs[:120]},
		{Artifact: "Custom.Auth", State: clienttable.StateError, Error: "no such file", Time: at},
	})
	s.Report("root", "C.1", []clienttable.Status{{Artifact: "Custom.Proc", State: clienttable.StateRestarting, Error: "ended", Time: at.Add(time.Second), Messages: msgs[120:]}})
	s.Report("acme", "C.9", []clienttable.Status{{Artifact: "Custom.Proc", State: clienttable.StateStopped, Time: at}})

	type row struct {
		client, artifact, state, err string
		time                         time.Time
		first, last                  string
		n                            int
	}
	flat := func(rows []clienttable.StatusRow) []row {
		var out []row
		for _, r := range rows {
			x := row{r.ClientID, r.Artifact, r.State, r.Error, r.Time, "", "", len(r.Messages)}
			if len(r.Messages) > 0 {
				x.first, x.last = r.Messages[0], r.Messages[len(r.Messages)-1]
			}
			out = append(out, x)
		}
		return out
	}
	for _, tc := range []struct {
		name, org, client string
		want              []row
	}{
		{"one client: the last 100 messages, the last state", "root", "C.1", []row{
			{"C.1", "Custom.Auth", "error", "no such file", at, "", "", 0},
			{"C.1", "Custom.Proc", "restarting", "ended", at.Add(time.Second), "m50", "m149", 100},
		}},
		{"every client of the org", "root", "", []row{
			{"C.1", "Custom.Auth", "error", "no such file", at, "", "", 0},
			{"C.1", "Custom.Proc", "restarting", "ended", at.Add(time.Second), "m50", "m149", 100},
			{"C.2", "Custom.Proc", "running", "", at, "m0", "m19", 20},
		}},
		{"another org", "acme", "", []row{{"C.9", "Custom.Proc", "stopped", "", at, "", "", 0}}},
		{"an unknown client", "root", "C.404", nil},
	} {
		if got := flat(s.Logs(tc.org, tc.client)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}

	// At most DefaultMaxClients per org: the one that reported least
	// recently is forgotten. C.2 reports again, so C.1 is the oldest.
	s.Report("root", "C.2", nil)
	for i := range clienttable.DefaultMaxClients - 1 {
		s.Report("root", fmt.Sprintf("C.x%d", i), []clienttable.Status{{Artifact: "A", State: "running"}})
	}
	if got := s.Logs("root", "C.1"); len(got) != 0 {
		t.Errorf("C.1 kept beyond the bound: %+v", got)
	}
	if got := s.Logs("root", "C.2"); len(got) != 1 {
		t.Errorf("C.2 forgotten: %+v", got)
	}
	clients := map[string]bool{}
	for _, r := range s.Logs("root", "") {
		clients[r.ClientID] = true
	}
	if len(clients) != clienttable.DefaultMaxClients {
		t.Errorf("%d clients kept, want %d", len(clients), clienttable.DefaultMaxClients)
	}
	// A report without a time is stamped when it arrives.
	s.Report("acme", "C.9", []clienttable.Status{{Artifact: "Custom.Proc", State: "running"}})
	if r := s.Logs("acme", "C.9"); r[0].Time.IsZero() {
		t.Error("no time on a report without one")
	}
}

// The queues a client may send to are those of its table and, for
// RemovedGrace, those of artifacts that left the table: rows collected
// before the change reached a client still come in. Adding the artifact
// again ends its grace; the grace survives a restart.
func TestServedQueuesKeepRecentlyRemoved(t *testing.T) {
	inst := queuetest.New(t, defs)
	queuesOf := func(labels ...string) []string {
		t.Helper()
		_, q, err := clienttable.Served{S: clienttable.Of(inst.M), M: inst.M}.Table("root", labels)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	s := clienttable.Of(inst.M)
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Proc", Label: "Web"})
	mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Auth"})
	steps := []struct {
		name   string
		do     func()
		labels []string
		want   string
	}{
		{"in the table", func() {}, []string{"web"}, "[Custom.Auth Custom.Proc]"},
		{"other label", func() {}, nil, "[Custom.Auth]"},
		{"Auth removed", func() { s.Remove("root", "Custom.Auth", "") }, nil, "[Custom.Auth]"},
		{"grace kept over a restart", func() { inst.Restart(); s = clienttable.Of(inst.M) }, nil, "[Custom.Auth]"},
		{"Proc removed from one label, still in none", func() { s.Remove("root", "Custom.Proc", "web") }, nil, "[Custom.Auth Custom.Proc]"},
		{"Auth added again", func() { mustAdd(t, s, "root", clienttable.Entry{Artifact: "Custom.Auth"}) }, nil, "[Custom.Auth Custom.Proc]"},
	}
	for _, st := range steps {
		st.do()
		if got := fmt.Sprint(queuesOf(st.labels...)); got != st.want {
			t.Errorf("%s: queues %s, want %s", st.name, got, st.want)
		}
	}
	if r, _ := s.RecentlyRemoved("root"); fmt.Sprint(r) != "[Custom.Proc]" {
		t.Errorf("RecentlyRemoved = %v, want [Custom.Proc] (Auth is back in the table)", r)
	}
}
