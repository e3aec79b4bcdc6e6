package artifacts

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestBuiltinsMatchSeed checks the built-in queues against the two tables
// of the seed document (shared/spec/builtin_queues.json): the queries
// "NOT sources AND type =~ server_event" and "... internal" must return
// exactly those names and descriptions.
func TestBuiltinsMatchSeed(t *testing.T) {
	path := sharedFile(t, "spec/builtin_queues.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	var tables map[string]struct {
		Rows []row `json:"rows"`
	}
	if err := json.Unmarshal(data, &tables); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, tc := range []struct {
		table string
		typ   Type
	}{
		{"server_event", TypeServerEvent},
		{"internal", TypeInternal},
	} {
		t.Run(tc.table, func(t *testing.T) {
			want := tables[tc.table].Rows
			if len(want) == 0 {
				t.Fatalf("%s: no rows in table %q", path, tc.table)
			}
			var got []row
			for _, a := range Builtins() {
				if len(a.Sources) == 0 && strings.EqualFold(string(a.Type), tc.table) {
					got = append(got, row{a.Name, a.Description})
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d built-in %s artifacts without sources, want %d", len(got), tc.typ, len(want))
			}
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("row %d:\n got  %q\n want %q", i, got[i], want[i])
				}
			}
		})
	}
}

func TestBuiltins(t *testing.T) {
	list := Builtins()
	if len(list) != 28 {
		t.Errorf("%d built-ins, want 28 (7 SERVER_EVENT, 20 INTERNAL, System.Flow.Completion)", len(list))
	}
	for i, a := range list {
		if !a.BuiltIn {
			t.Errorf("%s: BuiltIn is false", a.Name)
		}
		if len(a.Sources) != 0 {
			t.Errorf("%s: has sources", a.Name)
		}
		if !a.IsEvent() {
			t.Errorf("%s: type %s is not an event type", a.Name, a.Type)
		}
		if i > 0 && list[i-1].Name >= a.Name {
			t.Errorf("not sorted: %s before %s", list[i-1].Name, a.Name)
		}
		if a.Text == "" {
			t.Errorf("%s: no Text", a.Name)
		}
	}
	for _, tc := range []struct {
		name string
		typ  Type
	}{
		{"System.Flow.Completion", TypeClientEvent},
		{"Server.Internal.Alerts", TypeServerEvent},
		{"Server.Internal.Label", TypeInternal},
		{"Server.Internal.ArtifactDescription", TypeInternal},
	} {
		a, ok := builtin(tc.name)
		if !ok {
			t.Errorf("%s is not built in", tc.name)
			continue
		}
		if a.Type != tc.typ {
			t.Errorf("%s: type %s, want %s", tc.name, a.Type, tc.typ)
		}
	}
	if a, _ := builtin("System.Flow.Completion"); a != nil && a.Description == "" {
		t.Error("System.Flow.Completion has no description")
	}
	if a, _ := builtin("Server.Internal.ArtifactDescription"); a != nil && a.Description != "" {
		t.Errorf("Server.Internal.ArtifactDescription: description %q, want empty", a.Description)
	}
}
