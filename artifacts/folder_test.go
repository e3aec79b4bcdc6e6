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

func TestLoadDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each a line of the error, with DIR for the folder
	}{
		{
			name:  "bad definition",
			files: map[string]string{"good.yaml": "name: Custom.Good\n", "x/bad.yaml": "name: Custom.Bad\n\ntypo: 1\n"},
			want:  []string{`DIR/x/bad.yaml:3: unknown field "typo" (known fields: name, description, type, author, reference, parameters, sources, column_types)`},
		},
		{
			name:  "malformed YAML",
			files: map[string]string{"bad.yml": "name: Custom.Bad\nreference: [a\n"},
			want:  []string{`DIR/bad.yml:2: invalid YAML: did not find expected ',' or ']'`},
		},
		{
			name:  "built-in name",
			files: map[string]string{"alerts.yaml": "# mine\nname: Server.Internal.Alerts\ntype: SERVER_EVENT\n"},
			want:  []string{"DIR/alerts.yaml:2: a user definition cannot replace built-in artifact Server.Internal.Alerts"},
		},
		{
			name: "two files, one name",
			files: map[string]string{
				"a.yaml":     "name: Custom.Twice\n",
				"sub/b.yaml": "type: internal\nname: Custom.Twice\n",
			},
			want: []string{"DIR/sub/b.yaml:2: artifact Custom.Twice is also defined in DIR/a.yaml:1"},
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
				`DIR/1.yaml:2: invalid type "nope" (allowed: CLIENT, SERVER, CLIENT_EVENT, SERVER_EVENT, INTERNAL, in any case)`,
				"DIR/2.yaml:1: a user definition cannot replace built-in artifact System.Flow.Completion",
				"DIR/4.yaml:1: artifact Custom.Three is also defined in DIR/3.yaml:1",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			r := NewRepository(nil)
			_, err := r.LoadDir(dir)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.ReplaceAll(filepath.ToSlash(err.Error()), filepath.ToSlash(dir), "DIR")
			if want := strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error\n got  %s\n want %s", got, want)
			}
			if n := len(r.List("root")); n != len(Builtins()) {
				t.Errorf("a failed LoadDir added %d artifacts", n-len(Builtins()))
			}
		})
	}
}

func TestLoadDirTwice(t *testing.T) {
	r := NewRepository(nil)
	if _, err := r.LoadDir(writeTree(t, map[string]string{"a.yaml": "name: Custom.A\n"})); err != nil {
		t.Fatal(err)
	}
	other := writeTree(t, map[string]string{"again.yaml": "name: Custom.A\n", "b.yaml": "name: Custom.B\n"})
	_, err := r.LoadDir(other)
	if err == nil || !strings.Contains(err.Error(), "artifact Custom.A is also defined in ") {
		t.Errorf("second LoadDir defining the same name: %v", err)
	}
	if _, ok := r.Get("root", "Custom.B"); ok {
		t.Error("a failed LoadDir added Custom.B")
	}
}

func TestLoadDirMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := NewRepository(nil).LoadDir(missing)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadDir of a missing folder: %v", err)
	}
}
