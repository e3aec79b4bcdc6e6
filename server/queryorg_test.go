package server_test

import (
	"strings"
	"testing"
)

// TestQueryInAnotherOrg: query(org_id=) reads another org's events only
// for the root org's admins and the folder's owner; a reader lacks
// SERVER_ADMIN, and an org's own admin holds it for that org alone.
func TestQueryInAnotherOrg(t *testing.T) {
	e := newTrustEnv(t)
	read := func(org string) string {
		return `SELECT * FROM query(query="SELECT what, org().OrgId AS org FROM source(artifact='Server.Events.Receive')", org_id='` + org + `')`
	}
	cases := []struct {
		who, org, query string
		rows            []string
		log             string
	}{
		{"admin", rootOrg, read("acme"), []string{`{"what":"acme-secret","org":"acme"}`}, ""},
		{"socket", rootOrg, read("acme"), []string{`{"what":"acme-secret","org":"acme"}`}, ""},
		{"admin", rootOrg, read("root"), []string{`{"what":"root-event","org":"root"}`}, ""},
		{"reader", rootOrg, read("acme"), nil, "query: permission denied: reader (reader) lacks SERVER_ADMIN"},
		{"reader", rootOrg, read("root"), []string{`{"what":"root-event","org":"root"}`}, ""},
		{"acme-admin", "acme", read("root"), nil, "query: org_id=root: only an admin of the root org may run a query in another org"},
		{"admin", rootOrg, read("no such org"), nil, `query: org_id: invalid org id "no such org"`},
	}
	for _, c := range cases {
		var rows, logs []string
		if c.org == rootOrg {
			rows, logs = e.query(c.who, c.query)
		} else {
			rows, logs = e.queryIn(c.org, c.who, c.query)
		}
		if strings.Join(rows, "\n") != strings.Join(c.rows, "\n") {
			t.Errorf("%s: %s: rows %v, want %v", c.who, c.query, rows, c.rows)
		}
		if c.log != "" && !strings.Contains(strings.Join(logs, "\n"), c.log) {
			t.Errorf("%s: %s: log %v lacks %q", c.who, c.query, logs, c.log)
		}
	}
}

// queryIn runs VQL as a token in an org other than root.
func (e *trustEnv) queryIn(org, who, body string) (rows, logs []string) {
	e.t.Helper()
	status, text := e.do("POST", "/api/v1/orgs/"+org+"/query", who, body)
	if status != 200 {
		e.t.Fatalf("%s: %s: %d %s", who, body, status, text)
	}
	return e.rowsAndLogs(text)
}
