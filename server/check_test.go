package server_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestQueryIsCheckedBeforeItRuns: a query naming an unknown plugin,
// function or argument is a 400 that lists every problem with its
// position, and nothing of it runs; a session's earlier LETs count.
func TestQueryIsCheckedBeforeItRuns(t *testing.T) {
	e := newAPIEnv(t, 0)
	query := "/api/v1/orgs/" + rootOrg + "/query"
	type problem struct {
		Line, Column int
		Message      string
	}
	tests := []struct {
		name, body string
		status     int
		error      string
		problems   []problem
	}{
		{"unknown plugin", "SELECT * FROM nosuch()", 400,
			"1:15: unknown plugin nosuch\nSELECT * FROM nosuch()\n              ^",
			[]problem{{1, 15, "unknown plugin nosuch"}}},
		{"every problem, in order", "SELECT upcse(string='a') FROM scope()\nSELECT * FROM range(ends=1)", 400,
			"1:8: unknown function upcse (did you mean upcase?)\nSELECT upcse(string='a') FROM scope()\n       ^\n" +
				"2:21: unknown argument ends of plugin range (did you mean end?); its arguments are start, end, step\nSELECT * FROM range(ends=1)\n                    ^",
			[]problem{{1, 8, "unknown function upcse (did you mean upcase?)"}, {2, 21, "unknown argument ends of plugin range (did you mean end?); its arguments are start, end, step"}}},
		{"a function of another request's session", `{"query": "SELECT F(x=1) AS y FROM scope()"}`, 400,
			"1:8: unknown function F\nSELECT F(x=1) AS y FROM scope()\n       ^",
			[]problem{{1, 8, "unknown function F"}}},
	}
	for _, tt := range tests {
		status, body := e.do("POST", query, "admin", tt.body)
		var got struct {
			Error        string
			Status       int
			Line, Column int
			Problems     []problem
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != tt.status || got.Error != tt.error ||
			!reflect.DeepEqual(got.Problems, tt.problems) || got.Line != tt.problems[0].Line || got.Column != tt.problems[0].Column {
			t.Errorf("%s: %d %s\nwant %d %q %v", tt.name, status, body, tt.status, tt.error, tt.problems)
		}
	}
	// Within the session that defined F, the same query runs.
	e.do("POST", query, "admin", `{"query": "LET F(x) = x + 1", "session": "s"}`)
	if status, body := e.do("POST", query, "admin", `{"query": "SELECT F(x=1) AS y FROM scope()", "session": "s"}`); status != 200 || !strings.Contains(body, `"row":{"y":2}`) {
		t.Errorf("session LET: %d %s", status, body)
	}
}
