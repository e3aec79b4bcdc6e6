package clienttable_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/clienttable"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

var (
	owner = vql.Identity{Org: "root", Principal: "server", All: true, AllOrgs: true}
	// reader reads results and may not change what clients run.
	reader = vql.Identity{Org: "root", Principal: "ops", Role: "reader", Granted: []vql.Permission{vql.PermReadResults}}
	// investigator schedules collections on clients, as Velociraptor's
	// role of that name.
	investigator = vql.Identity{Org: "root", Principal: "ann", Role: "investigator", Granted: []vql.Permission{vql.PermCollectClient}}
	acme         = vql.Identity{Org: "acme", Principal: "boss", Role: "admin", All: true}
)

// run runs text as id on the instance's engine and returns the rows of
// its last statement as JSON, and the log.
func run(t *testing.T, inst *queuetest.Instance, id vql.Identity, text string) (string, []string) {
	t.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	var mu sync.Mutex
	var logs []string
	s := vqlq.NewQueueEngine(inst.Provider()).NewSession(vql.SessionOptions{Identity: id, OnLog: func(m vql.Message) {
		mu.Lock()
		logs = append(logs, m.String())
		mu.Unlock()
	}})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	rows, last := []any{}, -1
	for r := range s.Run(ctx, prog) {
		if r.Statement != last {
			rows, last = []any{}, r.Statement
		}
		rows = append(rows, r.Row)
	}
	b, err := value.EncodeJSON(rows)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return string(b), logs
}

func TestVQL(t *testing.T) {
	inst := queuetest.New(t, defs)
	emptyTable := `{"version":0,"artifacts":{"artifacts":[],"specs":[]},"label_events":[]}`
	table := `{"version":3,"artifacts":{"artifacts":["Custom.Proc"],"specs":[{"artifact":"Custom.Proc","parameters":{"env":[]}}]},` +
		`"label_events":[{"label":"Linux","artifacts":{"artifacts":["Custom.Auth","Custom.Proc"],"specs":[` +
		`{"artifact":"Custom.Auth","parameters":{"env":[{"key":"Path","value":"/var/log/auth.log"}]}},` +
		`{"artifact":"Custom.Proc","parameters":{"env":[{"key":"Period","value":"5"}]}}]}}]}`
	for _, tc := range []struct {
		name  string
		id    vql.Identity
		query string
		want  string
		log   string // a log line holds it; "": no ERROR
	}{
		{"an empty table", reader, `SELECT get_client_monitoring() AS T FROM scope()`, `[{"T":` + emptyTable + `}]`, ""},
		{"add for every client", owner, `SELECT add_client_monitoring(artifact='Custom.Proc') AS R FROM scope()`, `[{"R":true}]`, ""},
		{"add for a label, with parameters", investigator,
			`SELECT add_client_monitoring(artifact='Custom.Auth', label='Linux', parameters=dict(Path='/var/log/auth.log')) AS R FROM scope()`, `[{"R":true}]`, ""},
		{"a label's own parameters", owner,
			`SELECT add_client_monitoring(artifact='Custom.Proc', label='linux', parameters=dict(Period='5')) AS R FROM scope()`, `[{"R":true}]`, ""},
		{"the table in Velociraptor's shape", reader, `SELECT get_client_monitoring() AS T FROM scope()`, `[{"T":` + table + `}]`, ""},
		{"patchable as Velociraptor's", reader,
			`SELECT get_client_monitoring().label_events[0].artifacts.artifacts AS A FROM scope()`, `[{"A":["Custom.Auth","Custom.Proc"]}]`, ""},
		{"a reader may not add", reader, `SELECT add_client_monitoring(artifact='Custom.Proc') AS R FROM scope()`, `[{"R":null}]`,
			"add_client_monitoring: permission denied: ops (reader) lacks COLLECT_CLIENT"},
		{"a reader may not remove", reader, `SELECT rm_client_monitoring(artifact='Custom.Proc') AS R FROM scope()`, `[{"R":null}]`,
			"rm_client_monitoring: permission denied: ops (reader) lacks COLLECT_CLIENT"},
		{"an investigator may not read", investigator, `SELECT get_client_monitoring() AS T FROM scope()`, `[{"T":null}]`,
			"get_client_monitoring: permission denied: ann (investigator) lacks READ_RESULTS"},
		{"not a client event artifact", owner, `SELECT add_client_monitoring(artifact='Custom.Collect') AS R FROM scope()`, `[{"R":null}]`,
			"add_client_monitoring: Custom.Collect is a CLIENT artifact; the client event table holds only CLIENT_EVENT artifacts"},
		{"an unknown artifact", owner, `SELECT add_client_monitoring(artifact='Custom.Nope') AS R FROM scope()`, `[{"R":null}]`,
			"add_client_monitoring: artifact Custom.Nope not known"},
		{"parameters not a dict", owner, `SELECT add_client_monitoring(artifact='Custom.Proc', parameters='x') AS R FROM scope()`, `[{"R":null}]`,
			"add_client_monitoring: parameters must be a dict"},
		{"an unknown parameter", owner, `SELECT add_client_monitoring(artifact='Custom.Proc', parameters=dict(Nope=1)) AS R FROM scope()`, `[{"R":null}]`,
			"add_client_monitoring: Custom.Proc has no parameter Nope"},
		{"removing what is not there", owner, `SELECT rm_client_monitoring(artifact='Custom.Auth') AS R FROM scope()`, `[{"R":null}]`,
			"rm_client_monitoring: Custom.Auth is not in the client event table of org root"},
		{"removing from a label", investigator, `SELECT rm_client_monitoring(artifact='Custom.Auth', label='LINUX') AS R FROM scope()`, `[{"R":true}]`, ""},
		{"another org's table is its own", acme, `SELECT get_client_monitoring() AS T FROM scope()`, `[{"T":` + emptyTable + `}]`, ""},
		{"changes are audited", reader,
			`SELECT operation, principal, details FROM source(artifact='Server.Audit.Logs') WHERE operation =~ '^client_monitoring'`,
			`[{"operation":"client_monitoring_add","principal":"server","details":{"artifact":"Custom.Proc","label":"","parameters":{},"replaced":false}},` +
				`{"operation":"client_monitoring_add","principal":"ann","details":{"artifact":"Custom.Auth","label":"Linux","parameters":{"Path":"/var/log/auth.log"},"replaced":false}},` +
				`{"operation":"client_monitoring_add","principal":"server","details":{"artifact":"Custom.Proc","label":"linux","parameters":{"Period":"5"},"replaced":false}},` +
				`{"operation":"client_monitoring_rm","principal":"ann","details":{"artifact":"Custom.Auth","label":"Linux"}}]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := run(t, inst, tc.id, tc.query)
			if got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", tc.query, got, tc.want, logs)
			}
			found := false
			for _, l := range logs {
				if tc.log == "" && strings.HasPrefix(l, "ERROR") {
					t.Errorf("unexpected %s", l)
				}
				if tc.log != "" && strings.Contains(l, tc.log) {
					found = true
				}
			}
			if tc.log != "" && !found {
				t.Errorf("no log holds %q: %q", tc.log, logs)
			}
		})
	}

	// What VQL changed is what the client endpoint sees.
	a, err := clienttable.Of(inst.M).For("root", []string{"linux"})
	if err != nil || strings.Join(assigned(a), " ") != `Custom.Proc{"Period":"5"}` {
		t.Errorf("For after VQL: %q %v", assigned(a), err)
	}

	// client_monitoring_logs shows what clients reported.
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := clienttable.Of(inst.M)
	s.Report("root", "C.1", []clienttable.Status{{Artifact: "Custom.Proc", State: "error", Error: "boom", Time: at, Messages: []string{"a", "b"}}})
	s.Report("root", "C.2", []clienttable.Status{{Artifact: "Custom.Proc", State: "running", Time: at}})
	for _, tc := range []struct{ name, query, want string }{
		{"one client", `SELECT * FROM client_monitoring_logs(client_id='C.1')`,
			`[{"client_id":"C.1","artifact":"Custom.Proc","state":"error","error":"boom","time":"2026-01-02T03:04:05Z","messages":["a","b"]}]`},
		{"every client", `SELECT client_id, state FROM client_monitoring_logs()`,
			`[{"client_id":"C.1","state":"error"},{"client_id":"C.2","state":"running"}]`},
		{"an unknown client", `SELECT * FROM client_monitoring_logs(client_id='C.3')`, `[]`},
	} {
		if got, logs := run(t, inst, reader, tc.query); got != tc.want {
			t.Errorf("%s: %s\n got: %s\nwant: %s\nlogs: %q", tc.name, tc.query, got, tc.want, logs)
		}
	}
	if got, _ := run(t, inst, acme, `SELECT * FROM client_monitoring_logs()`); got != `[]` {
		t.Errorf("acme sees root's clients: %s", got)
	}

	// Every call and argument is documented.
	var infos []vql.Info
	for _, f := range clienttable.Functions(inst.Provider()) {
		infos = append(infos, f.Info())
	}
	for _, p := range clienttable.Plugins(inst.Provider()) {
		infos = append(infos, p.Info())
	}
	for _, info := range infos {
		if info.Doc == "" || len(info.Permissions) == 0 {
			t.Errorf("%s: doc %q, permissions %v", info.Name, info.Doc, info.Permissions)
		}
		for _, a := range info.Args {
			if a.Doc == "" {
				t.Errorf("%s(%s) has no doc", info.Name, a.Name)
			}
		}
	}
}
