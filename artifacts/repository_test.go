package artifacts

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

const (
	receiveDef = "name: Custom.Events.Receive\ntype: SERVER_EVENT\n"
	collectDef = "name: Custom.Collect\nsources:\n  - query: SELECT * FROM scope()\n"
)

// names lists the names of artifacts, for comparisons.
func names(list []*Artifact) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.Name)
	}
	return out
}

func mustSet(t *testing.T, r *Repository, org, text string) *Artifact {
	t.Helper()
	a, err := r.Set(org, text)
	if err != nil {
		t.Fatalf("Set(%q): %v", org, err)
	}
	return a
}

func TestRepositoryOrgIsolation(t *testing.T) {
	r := NewRepository(NewMemoryStorage())
	mustSet(t, r, "A", receiveDef)
	tests := []struct {
		org, name string
		visible   bool
	}{
		{"A", "Custom.Events.Receive", true},
		{"B", "Custom.Events.Receive", false},
		{"root", "Custom.Events.Receive", false},
		{"A", "Server.Internal.Alerts", true},
		{"B", "Server.Internal.Alerts", true},
		{"", "Server.Internal.Alerts", true},
		{"A", "Custom.Nope", false},
	}
	for _, tc := range tests {
		a, ok := r.Get(tc.org, tc.name)
		if ok != tc.visible || (ok && a.Name != tc.name) {
			t.Errorf("Get(%q, %q) = %v, %v; want visible %v", tc.org, tc.name, a, ok, tc.visible)
		}
	}
	builtinCount := len(Builtins())
	if got := r.List("A"); len(got) != builtinCount+1 || !slices.Contains(names(got), "Custom.Events.Receive") {
		t.Errorf("List(A) = %q", names(got))
	}
	if got := r.List("B"); len(got) != builtinCount || slices.Contains(names(got), "Custom.Events.Receive") {
		t.Errorf("List(B) = %q", names(got))
	}
	if err := r.Delete("B", "Custom.Events.Receive"); err == nil || err.Error() != "artifact Custom.Events.Receive not known" {
		t.Errorf("Delete in the other org: %v", err)
	}
	if _, ok := r.Get("A", "Custom.Events.Receive"); !ok {
		t.Error("Delete in org B removed org A's artifact")
	}
}

func TestRepositoryDefaultOrg(t *testing.T) {
	r := NewRepository(nil)
	mustSet(t, r, "", receiveDef)
	if _, ok := r.Get(DefaultOrg, "Custom.Events.Receive"); !ok {
		t.Error(`an artifact set in org "" is not visible in org root`)
	}
	if err := r.Delete("root", "Custom.Events.Receive"); err != nil {
		t.Errorf("Delete in root of an artifact set in \"\": %v", err)
	}
}

func TestRepositorySetAndDelete(t *testing.T) {
	r := NewRepository(NewMemoryStorage())
	first := mustSet(t, r, "root", receiveDef)
	if first.BuiltIn || first.Type != TypeServerEvent || first.Text != receiveDef {
		t.Errorf("Set returned %+v", first)
	}
	second := mustSet(t, r, "root", "name: Custom.Events.Receive\ntype: internal\n")
	if a, _ := r.Get("root", "Custom.Events.Receive"); a != second || a.Type != TypeInternal {
		t.Errorf("Set did not replace the earlier definition: %+v", a)
	}
	mustSet(t, r, "root", collectDef)

	tests := []struct {
		name    string
		op      func() error
		wantErr string
	}{
		{"set a built-in", func() error {
			_, err := r.Set("root", "name: Server.Internal.Alerts\ntype: SERVER_EVENT\n")
			return err
		}, "a user definition cannot replace built-in artifact Server.Internal.Alerts"},
		{"set a built-in as another type", func() error {
			_, err := r.Set("O1", "name: System.Flow.Completion\n")
			return err
		}, "a user definition cannot replace built-in artifact System.Flow.Completion"},
		{"set a bad definition", func() error {
			_, err := r.Set("root", "name: Custom.X\n\ntypo: 1\n")
			return err
		}, `line 3: unknown field "typo" (did you mean type?)`},
		{"set malformed YAML", func() error {
			_, err := r.Set("root", "name: [Custom.X\n")
			return err
		}, `line 1: invalid YAML: did not find expected ',' or ']'`},
		{"delete a built-in", func() error { return r.Delete("root", "Server.Internal.Alerts") },
			"cannot delete built-in artifact Server.Internal.Alerts"},
		{"delete an unknown artifact", func() error { return r.Delete("root", "Custom.Nope") },
			"artifact Custom.Nope not known"},
		{"delete a run-time artifact", func() error { return r.Delete("root", "Custom.Collect") }, ""},
		{"delete it again", func() error { return r.Delete("root", "Custom.Collect") },
			"artifact Custom.Collect not known"},
	}
	for _, tc := range tests {
		err := tc.op()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.wantErr {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.wantErr)
		}
	}
	if a, ok := r.Get("root", "Server.Internal.Alerts"); !ok || !a.BuiltIn || a.Type != TypeServerEvent {
		t.Errorf("the built-in changed: %+v", a)
	}
	if _, ok := r.Get("root", "Custom.Collect"); ok {
		t.Error("Custom.Collect still visible after Delete")
	}
	if _, ok := r.Get("root", "Custom.X"); ok {
		t.Error("a definition that failed to parse was added")
	}
}

func TestRepositoryPersistence(t *testing.T) {
	storage := NewMemoryStorage()
	r := NewRepository(storage)
	mustSet(t, r, "A", receiveDef)
	mustSet(t, r, "A", collectDef)
	mustSet(t, r, "B", collectDef)
	mustSet(t, r, "C", collectDef)
	if err := r.Delete("C", "Custom.Collect"); err != nil {
		t.Fatal(err)
	}

	if v, ok, _ := storage.Get("artifacts/A/Custom.Events.Receive"); !ok || string(v) != receiveDef {
		t.Errorf("stored under artifacts/A/Custom.Events.Receive: %q, %v", v, ok)
	}

	restarted := NewRepository(storage)
	if got, want := restarted.Orgs(), []string{"A", "B"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Orgs() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		org, name string
		visible   bool
	}{
		{"A", "Custom.Events.Receive", true},
		{"A", "Custom.Collect", true},
		{"B", "Custom.Collect", true},
		{"B", "Custom.Events.Receive", false},
		{"C", "Custom.Collect", false},
	} {
		a, ok := restarted.Get(tc.org, tc.name)
		if ok != tc.visible {
			t.Errorf("after restart: Get(%q, %q) visible %v, want %v", tc.org, tc.name, ok, tc.visible)
		}
		if ok && (a.BuiltIn || a.Name != tc.name) {
			t.Errorf("after restart: Get(%q, %q) = %+v", tc.org, tc.name, a)
		}
	}
	if a, _ := restarted.Get("A", "Custom.Events.Receive"); a != nil && (a.Type != TypeServerEvent || a.Text != receiveDef) {
		t.Errorf("after restart: %+v", a)
	}
	for _, org := range restarted.Orgs() {
		if err := restarted.LoadOrg(org); err != nil {
			t.Errorf("LoadOrg(%q): %v", org, err)
		}
	}

	// Deleting after a restart removes the stored copy too.
	if err := restarted.Delete("B", "Custom.Collect"); err != nil {
		t.Fatal(err)
	}
	if got := NewRepository(storage).Orgs(); !reflect.DeepEqual(got, []string{"A"}) {
		t.Errorf("Orgs() after deleting B's only artifact = %q", got)
	}
}

func TestRepositoryOrgIDsThatArePrefixes(t *testing.T) {
	storage := NewMemoryStorage()
	r := NewRepository(storage)
	mustSet(t, r, "a/b", receiveDef)
	mustSet(t, r, "a", collectDef)
	restarted := NewRepository(storage)
	if _, ok := restarted.Get("a", "Custom.Events.Receive"); ok {
		t.Error(`org "a" sees the artifacts of org "a/b"`)
	}
	if _, ok := restarted.Get("a/b", "Custom.Events.Receive"); !ok {
		t.Error(`org "a/b" lost its artifact`)
	}
	if got := restarted.Orgs(); !reflect.DeepEqual(got, []string{"a", "a/b"}) {
		t.Errorf("Orgs() = %q", got)
	}
}

func TestRepositoryBadStoredDefinitions(t *testing.T) {
	storage := NewMemoryStorage()
	for k, v := range map[string]string{
		"artifacts/" + DefaultOrg + "/Custom.Good":            "name: Custom.Good\n",
		"artifacts/" + DefaultOrg + "/Custom.Bad":             "name: Custom.Bad\ntypo: 1\n",
		"artifacts/" + DefaultOrg + "/Custom.Renamed":         "name: Custom.Other\n",
		"artifacts/" + DefaultOrg + "/Server.Internal.Alerts": "name: Server.Internal.Alerts\n",
		"artifacts/other/Custom.NotForRootToSee":              "name: Custom.NotForRootToSee\n",
	} {
		if err := storage.Put(k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	r := NewRepository(storage)
	if _, ok := r.Get("root", "Custom.Good"); !ok {
		t.Error("a good stored definition was not loaded beside bad ones")
	}
	for _, name := range []string{"Custom.Bad", "Custom.Other", "Custom.Renamed", "Custom.NotForRootToSee"} {
		if _, ok := r.Get("root", name); ok {
			t.Errorf("%s loaded", name)
		}
	}
	if a, _ := r.Get("root", "Server.Internal.Alerts"); a == nil || !a.BuiltIn {
		t.Errorf("a stored definition replaced a built-in: %+v", a)
	}
	err := r.LoadOrg("root")
	want := []string{
		"artifacts/" + DefaultOrg + `/Custom.Bad:2: unknown field "typo"`,
		"artifacts/" + DefaultOrg + "/Custom.Renamed: holds artifact Custom.Other, not Custom.Renamed",
		"artifacts/" + DefaultOrg + "/Server.Internal.Alerts: a user definition cannot replace built-in artifact Server.Internal.Alerts",
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadOrg error %v does not contain %q", err, w)
		}
	}
	if err := r.LoadOrg("other"); err != nil {
		t.Errorf("LoadOrg(other): %v", err)
	}
}

// failingStorage fails every operation, as a broken disk would.
type failingStorage struct{}

var errDisk = errors.New("disk on fire")

func (failingStorage) Get(string) ([]byte, bool, error) { return nil, false, errDisk }
func (failingStorage) Put(string, []byte) error         { return errDisk }
func (failingStorage) Delete(string) error              { return errDisk }
func (failingStorage) Scan(string, func(string, []byte) error) error {
	return errDisk
}

// putFailingStorage reads fine but cannot write.
type putFailingStorage struct{ *MemoryStorage }

func (putFailingStorage) Put(string, []byte) error { return errDisk }

func TestRepositoryStorageErrors(t *testing.T) {
	r := NewRepository(failingStorage{})
	if _, err := r.Set("root", receiveDef); !errors.Is(err, errDisk) {
		t.Errorf("Set with failing storage: %v", err)
	}
	if err := r.LoadOrg("root"); !errors.Is(err, errDisk) {
		t.Errorf("LoadOrg with failing storage: %v", err)
	}
	if _, ok := r.Get("root", "Server.Internal.Alerts"); !ok {
		t.Error("built-ins not visible when storage fails")
	}
	if got := len(r.List("root")); got != len(Builtins()) {
		t.Errorf("List with failing storage: %d artifacts", got)
	}
	if got := r.Orgs(); len(got) != 0 {
		t.Errorf("Orgs with failing storage: %q", got)
	}

	w := NewRepository(putFailingStorage{NewMemoryStorage()})
	_, err := w.Set("root", receiveDef)
	if !errors.Is(err, errDisk) || err.Error() != "storing artifact Custom.Events.Receive: disk on fire" {
		t.Errorf("Set when Put fails: %v", err)
	}
	if _, ok := w.Get("root", "Custom.Events.Receive"); ok {
		t.Error("an artifact that could not be stored is visible")
	}
}

func TestRepositoryWithoutStorage(t *testing.T) {
	r := NewRepository(nil)
	mustSet(t, r, "A", receiveDef)
	if _, ok := r.Get("A", "Custom.Events.Receive"); !ok {
		t.Error("not visible without storage")
	}
	if got := r.Orgs(); !reflect.DeepEqual(got, []string{"A"}) {
		t.Errorf("Orgs() = %q", got)
	}
	if err := r.Delete("A", "Custom.Events.Receive"); err != nil {
		t.Error(err)
	}
	if got := r.Orgs(); len(got) != 0 {
		t.Errorf("Orgs() after Delete = %q", got)
	}
}

func TestRepositoryConcurrentUse(t *testing.T) {
	r := NewRepository(NewMemoryStorage())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			org := fmt.Sprintf("O%d", i%3)
			name := fmt.Sprintf("Custom.A%d", i)
			for range 50 {
				if _, err := r.Set(org, "name: "+name+"\ntype: server_event\n"); err != nil {
					t.Error(err)
					return
				}
				if _, ok := r.Get(org, name); !ok {
					t.Errorf("%s not visible in %s right after Set", name, org)
				}
				r.List(org)
				r.Orgs()
				if err := r.Delete(org, name); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for _, org := range []string{"O0", "O1", "O2"} {
		if got := len(r.List(org)); got != len(Builtins()) {
			t.Errorf("List(%s) has %d artifacts after every Set was deleted", org, got)
		}
	}
}
