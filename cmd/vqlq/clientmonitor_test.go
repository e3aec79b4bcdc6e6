package main

import (
	"strings"
	"testing"
)

const (
	clientAuthDef = "name: Custom.Auth\ntype: CLIENT_EVENT\nparameters:\n  - name: Path\nsources:\n  - query: SELECT Path FROM scope()\n"
	clientProcDef = "name: Custom.Proc\ntype: CLIENT_EVENT\nsources:\n  - query: SELECT 1 FROM scope()\n"
	clientColDef  = "name: Custom.Collect\nsources:\n  - query: SELECT 1 FROM scope()\n"
)

// vqlq serve --client-monitor puts artifacts in the client event table
// for every client; starting again with the same flags changes nothing,
// and keeps the parameters given since.
func TestServeClientMonitor(t *testing.T) {
	defs := map[string]string{"a.yaml": clientAuthDef, "p.yaml": clientProcDef, "c.yaml": clientColDef}
	flags := []string{"--client-monitor", "Custom.Auth", "--client-monitor", "Custom.Proc"}
	p := startServe(t, defs, flags...)
	table := func(p *serveProc) string {
		t.Helper()
		r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl",
			"SELECT get_client_monitoring().version AS V, get_client_monitoring().artifacts.specs AS S FROM scope()")
		if r.code != 0 {
			t.Fatalf("query: %+v", r)
		}
		return strings.TrimSpace(r.stdout)
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"added at start", func() {},
			`{"V":2,"S":[{"artifact":"Custom.Auth","parameters":{"env":[]}},{"artifact":"Custom.Proc","parameters":{"env":[]}}]}`},
		{"parameters given later", func() {
			r := runVQLQ(t, "", "query", "--data-dir", p.data, "SELECT add_client_monitoring(artifact='Custom.Auth', parameters=dict(Path='/var/log/secure')) FROM scope()")
			if r.code != 0 {
				t.Fatalf("add: %+v", r)
			}
		}, `{"V":3,"S":[{"artifact":"Custom.Auth","parameters":{"env":[{"key":"Path","value":"/var/log/secure"}]}},{"artifact":"Custom.Proc","parameters":{"env":[]}}]}`},
		{"started again with the same flags", func() {
			p.stop(t)
			p = relaunch(t, p, flags...)
		}, `{"V":3,"S":[{"artifact":"Custom.Auth","parameters":{"env":[{"key":"Path","value":"/var/log/secure"}]}},{"artifact":"Custom.Proc","parameters":{"env":[]}}]}`},
	}
	for _, st := range steps {
		st.do()
		if got := table(p); got != st.want {
			t.Errorf("%s:\n got %s\nwant %s", st.name, got, st.want)
		}
	}
	p.stop(t)

	// An artifact clients cannot run stops the server before it listens.
	for _, tc := range []struct{ name, want string }{
		{"Custom.Collect", "vqlq serve: --client-monitor Custom.Collect: Custom.Collect is a CLIENT artifact; the client event table holds only CLIENT_EVENT artifacts"},
		{"Custom.Nope", "vqlq serve: --client-monitor Custom.Nope: artifact Custom.Nope not known"},
	} {
		r := runVQLQ(t, "", "serve", "--listen", "127.0.0.1:0", "--data-dir", p.data, "--definitions", p.defs, "--client-monitor", tc.name)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stdout, "listening") {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
}
