package artifacts

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree creates files (slash-separated paths to contents) below a new
// temporary directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDir(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a.yaml":            "name: Custom.A\ntype: server_event\n",
		"sub/b.yml":         "name: Custom.B\ntype: client_event\nsources:\n  - name: S\n    query: SELECT * FROM scope()\n",
		"sub/deeper/c.YAML": "name: Custom.C\n",
		"notes.txt":         "not a definition",
		"sub/readme.md":     "name: Custom.Ignored\n",
	})
	r := NewRepository(NewMemoryStorage())
	if _, err := r.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"root", "O1"} {
		for _, name := range []string{"Custom.A", "Custom.B", "Custom.C"} {
			a, ok := r.Get(org, name)
			if !ok || a.BuiltIn {
				t.Errorf("Get(%q, %q) = %+v, %v", org, name, a, ok)
			}
		}
		if _, ok := r.Get(org, "Custom.Ignored"); ok {
			t.Error("a .md file was loaded")
		}
	}
	if a, _ := r.Get("O1", "Custom.B"); a != nil && !reflect.DeepEqual(a.QueueNames(), []string{"Custom.B", "Custom.B/S"}) {
		t.Errorf("Custom.B queues: %q", a.QueueNames())
	}
	if got := len(r.List("O1")); got != len(Builtins())+3 {
		t.Errorf("List has %d artifacts, want built-ins + 3", got)
	}
	if got := r.Orgs(); len(got) != 0 {
		t.Errorf("folder definitions belong to no org in storage, but Orgs() = %q", got)
	}

	// Folder definitions can neither be deleted nor stored per org, but a
	// run-time definition in one org hides the folder one there.
	if err := r.Delete("root", "Custom.A"); err == nil ||
		err.Error() != "artifact Custom.A comes from the definitions folder; remove its file instead" {
		t.Errorf("Delete of a folder artifact: %v", err)
	}
	mustSet(t, r, "O1", "name: Custom.A\ntype: internal\n")
	if a, _ := r.Get("O1", "Custom.A"); a == nil || a.Type != TypeInternal {
		t.Errorf("run-time definition does not hide the folder one in its org: %+v", a)
	}
	if a, _ := r.Get("root", "Custom.A"); a == nil || a.Type != TypeServerEvent {
		t.Errorf("run-time definition in O1 changed root's: %+v", a)
	}
	if n := strings.Count(strings.Join(names(r.List("O1")), " "), "Custom.A"); n != 1 {
		t.Errorf("Custom.A listed %d times", n)
	}
	if err := r.Delete("O1", "Custom.A"); err != nil {
		t.Fatal(err)
	}
	if a, _ := r.Get("O1", "Custom.A"); a == nil || a.Type != TypeServerEvent {
		t.Errorf("after deleting the run-time definition the folder one is back: %+v", a)
	}
}

// TestLoadDirSkipsBadFiles: a file that is not a valid definition, or
// whose name is taken, is left out with its problem at file and line; it
// does not stop the other files, which load; the report counts both.
func TestLoadDirSkipsBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string // each skipped file's message, with DIR for the folder
		reasons []string
	}{
		{
			name:    "bad definition",
			files:   map[string]string{"good.yaml": "name: Custom.Good\n", "x/bad.yaml": "name: Custom.Bad\n\nsorces: []\n"},
			want:    []string{`DIR/x/bad.yaml:3: unknown field "sorces" (did you mean sources?); artifact Custom.Bad is not loaded`},
			reasons: []string{ReasonInvalid},
		},
		{
			name:    "malformed YAML",
			files:   map[string]string{"good.yaml": "name: Custom.Good\n", "bad.yml": "name: Custom.Bad\nreference: [a\n"},
			want:    []string{`DIR/bad.yml:2: invalid YAML: did not find expected ',' or ']'; artifact Custom.Bad is not loaded`},
			reasons: []string{ReasonInvalid},
		},
		{
			name:    "no name to be found",
			files:   map[string]string{"good.yaml": "name: Custom.Good\n", "bad.yml": "description: [a\n"},
			want:    []string{`DIR/bad.yml:1: invalid YAML: did not find expected ',' or ']'; DIR/bad.yml is not loaded`},
			reasons: []string{ReasonInvalid},
		},
		{
			name:    "built-in name, other type",
			files:   map[string]string{"good.yaml": "name: Custom.Good\n", "alerts.yaml": "# mine\nname: Server.Internal.Alerts\ntype: CLIENT_EVENT\n"},
			want:    []string{"DIR/alerts.yaml:2: Server.Internal.Alerts is a built-in SERVER_EVENT artifact; a definition of type CLIENT_EVENT cannot replace it; artifact Server.Internal.Alerts is not loaded"},
			reasons: []string{ReasonBuiltinType},
		},
		{
			name: "two files, one name",
			files: map[string]string{
				"a.yaml":     "name: Custom.Twice\n",
				"sub/b.yaml": "type: internal\nname: Custom.Twice\n",
			},
			want:    []string{"DIR/sub/b.yaml:2: artifact Custom.Twice is also defined in DIR/a.yaml:1; artifact Custom.Twice is not loaded"},
			reasons: []string{ReasonDuplicate},
		},
		{
			name: "every problem is reported",
			files: map[string]string{
				"1.yaml": "name: Custom.One\ntype: nope\n",
				"2.yaml": "name: System.Flow.Completion\n",
				"3.yaml": "name: Custom.Three\n",
				"4.yaml": "name: Custom.Three\n",
			},
			want: []string{
				`DIR/1.yaml:2: invalid type "nope" (allowed: CLIENT, SERVER, CLIENT_EVENT, SERVER_EVENT, INTERNAL, NOTEBOOK, in any case); artifact Custom.One is not loaded`,
				"DIR/2.yaml:1: System.Flow.Completion is a built-in CLIENT_EVENT artifact; a definition of type CLIENT cannot replace it; artifact System.Flow.Completion is not loaded",
				"DIR/4.yaml:1: artifact Custom.Three is also defined in DIR/3.yaml:1; artifact Custom.Three is not loaded",
			},
			reasons: []string{ReasonInvalid, ReasonBuiltinType, ReasonDuplicate},
		},
		{
			name: "imports of one not loaded, at any depth; a client's are not judged",
			files: map[string]string{
				"a.yaml": "name: Custom.Bad\nsorces: []\n",
				"b.yaml": "name: Custom.B\ntype: server\nimports: [Custom.Bad]\n",
				"c.yaml": "name: Custom.C\ntype: notebook\nimports:\n  - Custom.B\n",
				"d.yaml": "name: Custom.D\nimports: [Custom.Bad]\n",
				"e.yaml": "name: Custom.E\ntype: server\nimports: [Custom.D]\n",
			},
			want: []string{
				`DIR/a.yaml:2: unknown field "sorces" (did you mean sources?); artifact Custom.Bad is not loaded`,
				"DIR/b.yaml:3: imports Custom.Bad, which is not loaded (invalid definition, DIR/a.yaml); artifact Custom.B is not loaded",
				"DIR/c.yaml:4: imports Custom.B, which is not loaded (imports one not loaded, DIR/b.yaml); artifact Custom.C is not loaded",
			},
			reasons: []string{ReasonInvalid, ReasonImport, ReasonImport},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			r := NewRepository(nil)
			report, err := r.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got, reasons []string
			for _, n := range report.Skipped {
				got = append(got, strings.ReplaceAll(filepath.ToSlash(n.Error()), filepath.ToSlash(dir), "DIR"))
				reasons = append(reasons, n.Reason)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(reasons, tc.reasons) {
				t.Errorf("skipped\n got  %q %q\n want %q %q", got, reasons, tc.want, tc.reasons)
			}
			if want := len(tc.files) - len(tc.want); report.Files != len(tc.files) || report.Loaded != want ||
				len(r.List("root")) != len(Builtins())+want {
				t.Errorf("report %+v and %d listed, want %d files, %d loaded", report, len(r.List("root"))-len(Builtins()), len(tc.files), want)
			}
		})
	}
}

// TestLoadDirReplacesBuiltins: a file with a built-in's name and type
// replaces the built-in's definition; the report says so.
func TestLoadDirReplacesBuiltins(t *testing.T) {
	r := NewRepository(nil)
	report, err := r.LoadDir(writeTree(t, map[string]string{
		"logs.yaml": "name: Server.Audit.Logs\ntype: server_event\ndescription: mine\nsources:\n  - name: Extra\n    query: SELECT * FROM scope()\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Skipped) != 0 || !reflect.DeepEqual(report.Replaced, []string{"Server.Audit.Logs"}) {
		t.Fatalf("report %+v", report)
	}
	for _, a := range []*Artifact{must(r.Get("O1", "Server.Audit.Logs")), findByName(r.List("O1"), "Server.Audit.Logs")} {
		if a == nil || a.Description != "mine" || a.BuiltIn || !reflect.DeepEqual(a.QueueNames(), []string{"Server.Audit.Logs", "Server.Audit.Logs/Extra"}) {
			t.Errorf("the folder's definition does not replace the built-in: %+v", a)
		}
	}
	if got := len(r.List("root")); got != len(Builtins()) {
		t.Errorf("%d artifacts listed, want the %d built-ins", got, len(Builtins()))
	}
	if want := "definitions: 1 of 1 artifacts loaded (1 replace built-ins)"; report.Summary() != want {
		t.Errorf("summary %q, want %q", report.Summary(), want)
	}
}

func must(a *Artifact, ok bool) *Artifact {
	if !ok {
		return nil
	}
	return a
}

func findByName(list []*Artifact, name string) *Artifact {
	for _, a := range list {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func TestLoadDirTwice(t *testing.T) {
	r := NewRepository(nil)
	if _, err := r.LoadDir(writeTree(t, map[string]string{"a.yaml": "name: Custom.A\n"})); err != nil {
		t.Fatal(err)
	}
	other := writeTree(t, map[string]string{"again.yaml": "name: Custom.A\ntype: server\n", "b.yaml": "name: Custom.B\n"})
	report, err := r.LoadDir(other)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Skipped) != 1 || !strings.Contains(report.Skipped[0].Error(), "artifact Custom.A is also defined in ") || report.Loaded != 1 {
		t.Errorf("second LoadDir defining the same name: %+v", report)
	}
	if a, ok := r.Get("root", "Custom.A"); !ok || a.Type != TypeClient {
		t.Errorf("the first definition of Custom.A was replaced: %+v", a)
	}
	if _, ok := r.Get("root", "Custom.B"); !ok {
		t.Error("the second LoadDir did not add Custom.B")
	}
	if n := r.NotLoaded(); len(n) != 0 {
		t.Errorf("a loaded name is listed as not loaded: %v", n)
	}
}

func TestLoadDirMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := NewRepository(nil).LoadDir(missing)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadDir of a missing folder: %v", err)
	}
}
