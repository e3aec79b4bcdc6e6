package fleet_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

var (
	owner  = vql.Identity{Org: "root", Principal: "server", All: true, AllOrgs: true}
	reader = vql.Identity{Org: "root", Principal: "ops", Role: "reader", Granted: []vql.Permission{vql.PermReadResults, vql.PermAnyQuery}}
	// acmeAdmin holds every permission, in org acme only.
	acmeAdmin = vql.Identity{Org: "acme", Principal: "boss", Role: "admin", All: true}
)

// run runs text as id against the instance and returns the rows of its
// last statement as JSON, and the log.
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
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

type vqlCase struct {
	name  string
	id    vql.Identity
	query string
	want  string // the JSON of the last statement's rows
	log   string // a log message holds it; empty: no ERROR logged
}

func runCases(t *testing.T, inst *queuetest.Instance, cases []vqlCase) {
	t.Helper()
	for _, tc := range cases {
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
}

// TestClientsVQL: clients(), client_info() and label() on real records,
// in Velociraptor's row shape.
func TestClientsVQL(t *testing.T) {
	inst := queuetest.New(t, nil)
	runCases(t, inst, []vqlCase{
		{"no clients yet", owner, `SELECT * FROM clients()`, `[]`, ""},
	})
	_, _ = newRegistryOn(t, inst)
	web01 := `{"client_id":"C.0000000000000001","agent_information":{"version":"0.9","name":"vqlq"},` +
		`"os_info":{"system":"linux","hostname":"web01","release":"6.8","machine":"amd64","fqdn":"web01.corp.example"},` +
		`"first_seen_at":1793613600,"last_seen_at":1793617200000000,"last_ip":"10.0.0.1","labels":["Web","prod"],"connected":false}`
	runCases(t, inst, []vqlCase{
		{"client_info shape", reader, `SELECT client_info(client_id="C.0000000000000001") AS C FROM scope()`, `[{"C":` + web01 + `}]`, ""},
		{"client_info hostname", reader, `SELECT client_info(client_id="C.0000000000000002").os_info.hostname AS H FROM scope()`, `[{"H":"WEB02"}]`, ""},
		{"client_info unknown is NULL", reader, `SELECT client_info(client_id="C.ffffffffffffffff") AS C FROM scope()`, `[{"C":null}]`, "has no client C.ffffffffffffffff"},
		{"client_info of the server", reader, `SELECT client_info(client_id="server").client_id AS C FROM scope()`, `[{"C":"server"}]`, ""},
		{"client_info of another org's client", reader, `SELECT client_info(client_id="C.00000000000000cc") AS C FROM scope()`, `[{"C":null}]`, "org root has no client"},
		{"client_info bad id", reader, `SELECT client_info(client_id="X") AS C FROM scope()`, `[{"C":null}]`, "starts with C."},
		{"clients all", reader, `SELECT client_id FROM clients()`, `[{"client_id":"C.0000000000000001"},{"client_id":"C.0000000000000002"},{"client_id":"C.00000000000000ab"}]`, ""},
		{"clients label search", reader, `SELECT client_id, os_info.fqdn AS Fqdn FROM clients(search="label:web")`,
			`[{"client_id":"C.0000000000000001","Fqdn":"web01.corp.example"},{"client_id":"C.0000000000000002","Fqdn":"web02.corp.example"}]`, ""},
		{"clients host search", reader, `SELECT client_id FROM clients(search="host:db")`, `[{"client_id":"C.00000000000000ab"}]`, ""},
		{"clients start and count", reader, `SELECT client_id FROM clients(start=1, count=1)`, `[{"client_id":"C.0000000000000002"}]`, ""},
		{"clients client_id", reader, `SELECT client_id FROM clients(client_id="C.00000000000000ab")`, `[{"client_id":"C.00000000000000ab"}]`, ""},
		{"clients bad search", reader, `SELECT * FROM clients(search="mac:1")`, `[]`, "unknown operator"},
		{"acme sees its own", acmeAdmin, `SELECT client_id FROM clients()`, `[{"client_id":"C.00000000000000cc"}]`, ""},
		{"Admin.Client.Remove's age query", reader,
			`SELECT client_id, timestamp(epoch=last_seen_at) AS LastSeen FROM clients() WHERE LastSeen > timestamp(epoch=0) AND client_id = "C.0000000000000001"`,
			`[{"client_id":"C.0000000000000001","LastSeen":"2026-11-02T11:00:00Z"}]`, ""},
		{"label set", owner, `SELECT label(client_id="C.00000000000000ab", labels=["Slack", "x"], op="set") AS L FROM scope()`,
			`[{"L":{"ClientId":"C.00000000000000ab","Labels":["Slack","x"],"Op":"set"}}]`, ""},
		{"label check set", owner, `SELECT label(client_id="C.00000000000000ab", labels="slack", op="check").Op AS L FROM scope()`, `[{"L":"check"}]`, ""},
		{"label remove", owner, `SELECT label(client_id="C.00000000000000ab", labels="x", op="remove").Op AS L FROM scope()`, `[{"L":"remove"}]`, ""},
		{"label check removed", owner, `SELECT label(client_id="C.00000000000000ab", labels="x", op="check") AS L FROM scope()`, `[{"L":false}]`, ""},
		{"labels shown", owner, `SELECT labels FROM clients(search="label:slack")`, `[{"labels":["Slack"]}]`, ""},
		{"label bad op", owner, `SELECT label(client_id="C.00000000000000ab", labels="x", op="add") AS L FROM scope()`, `[{"L":null}]`, "use set, remove or check"},
		{"label unknown client", owner, `SELECT label(client_id="C.ffffffffffffffff", labels="x") AS L FROM scope()`, `[{"L":null}]`, "no such client"},
	})
}

func newRegistryOn(t *testing.T, inst *queuetest.Instance) (*queuetest.Instance, *fleet.Registry) {
	t.Helper()
	reg := fleet.Of(inst.M)
	for _, c := range fixture {
		if err := reg.Put("root", c); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Put("acme", fleet.Client{ClientID: "C.00000000000000cc", Hostname: "web99", Labels: []string{"web"}}); err != nil {
		t.Fatal(err)
	}
	return inst, reg
}

// TestClientDeleteAndKillVQL: client_delete is a dry run unless
// really_do_it, then deletes, audits and announces; killkillkill keeps a
// request for a known client only.
func TestClientDeleteAndKillVQL(t *testing.T) {
	inst := queuetest.New(t, nil)
	_, reg := newRegistryOn(t, inst)
	id, org := "C.0000000000000002", owner.Org
	runCases(t, inst, []vqlCase{
		{"kill", owner, `SELECT killkillkill(client_id="` + id + `") AS K FROM scope()`, `[{"K":"` + id + `"}]`, ""},
		{"kill unknown", owner, `SELECT killkillkill(client_id="C.ffffffffffffffff") AS K FROM scope()`, `[{"K":null}]`, "no such client"},
		{"dry run", owner, `SELECT * FROM client_delete(client_id="` + id + `")`,
			`[{"client_id":"` + id + `","type":"client","vfs_path":"clients/` + org + `/` + id + `","error":null},` +
				`{"client_id":"` + id + `","type":"kill_request","vfs_path":"client-kills/` + org + `/` + id + `","error":null}]`, "dry run"},
		{"still there", owner, `SELECT client_id FROM clients(client_id="` + id + `")`, `[{"client_id":"` + id + `"}]`, ""},
		{"really", owner, `SELECT type FROM client_delete(client_id="` + id + `", really_do_it=TRUE)`, `[{"type":"client"},{"type":"kill_request"}]`, ""},
		{"gone", owner, `SELECT client_id FROM clients(client_id="` + id + `")`, `[]`, ""},
		{"again", owner, `SELECT * FROM client_delete(client_id="` + id + `", really_do_it=TRUE)`, `[]`, "has no client"},
		{"bad id", owner, `SELECT * FROM client_delete(client_id="server")`, `[]`, "should be of the form C.XXXX"},
		{"announced", owner, `SELECT ClientId, OrgId, Principal FROM source(artifact="Server.Internal.ClientDelete")`,
			`[{"ClientId":"` + id + `","OrgId":"root","Principal":"server"}]`, ""},
		{"audited", owner, `SELECT operation, details.client_id AS C FROM source(artifact="Server.Audit.Logs") WHERE operation =~ "client_delete|killkillkill"`,
			`[{"operation":"killkillkill","C":"` + id + `"},{"operation":"client_delete","C":"` + id + `"}]`, ""},
	})
	if _, found, _ := reg.TakeKill("root", id); found {
		t.Errorf("the deleted client's kill request stayed")
	}
}

// TestRefusedToReader: a reader reads clients but changes nothing.
func TestRefusedToReader(t *testing.T) {
	inst := queuetest.New(t, nil)
	newRegistryOn(t, inst)
	id := "C.0000000000000001"
	var cases []vqlCase
	for _, q := range []struct{ call, query string }{
		{"client_delete", `SELECT * FROM client_delete(client_id="` + id + `", really_do_it=TRUE)`},
		{"label", `SELECT label(client_id="` + id + `", labels="x") AS R FROM scope()`},
		{"killkillkill", `SELECT killkillkill(client_id="` + id + `") AS R FROM scope()`},
		{"gui_users", `SELECT * FROM gui_users()`},
		{"user_create", `SELECT user_create(user="eve", roles="administrator") AS R FROM scope()`},
		{"org_create", `SELECT org_create(name="Eve's") AS R FROM scope()`},
		{"user_options", `SELECT user_options(user="someone", default_password="x") AS R FROM scope()`},
		{"user_messages", `SELECT * FROM user_messages(user="someone")`},
	} {
		want := `[]`
		if strings.Contains(q.query, " AS R ") {
			want = `[{"R":null}]`
		}
		cases = append(cases, vqlCase{q.call, reader, q.query, want, q.call + ": permission denied: ops (reader) lacks"})
	}
	runCases(t, inst, cases)
	reg := fleet.Of(inst.M)
	if c, _, _ := reg.Get("root", id); c == nil || len(c.Labels) != 2 {
		t.Errorf("the reader changed the client: %+v", c)
	}
	if _, found, _ := reg.TakeKill("root", id); found {
		t.Errorf("the reader's kill was recorded")
	}
	if len(inst.M.Orgs()) != 1 {
		t.Errorf("the reader made an org")
	}
}

// TestUsersAndOrgsVQL: gui_users lists the token holders and recorded
// users; org_create names an org that orgs() and org() show.
func TestUsersAndOrgsVQL(t *testing.T) {
	inst := queuetest.New(t, nil)
	kv := inst.M.Storage()
	if _, err := server.IssueToken(context.Background(), inst.M, kv, server.Token{Name: "ops", Role: "reader", Org: "root"}, "server"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.IssueToken(context.Background(), inst.M, kv, server.Token{Name: "old", Role: "reader", Org: "root", Expires: time.Now().Add(time.Second)}, "server"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // "old" expires: an expired token makes no principal
	runCases(t, inst, []vqlCase{
		{"token holders", owner, `SELECT * FROM gui_users()`,
			`[{"name":"ops","org_id":"root","picture":"","email":"","roles":["reader"],"effective_policy":{"any_query":true,"read_results":true}}]`, ""},
		{"org_create", owner, `SELECT org_create(name="Acme Corp", org_id="acme") AS O FROM scope()`, `[{"O":{"name":"Acme Corp","id":"acme"}}]`, ""},
		{"org_create twice", owner, `SELECT org_create(name="Again", org_id="acme") AS O FROM scope()`, `[{"O":null}]`, "exists already"},
		{"org_create random id", owner, `SELECT org_create(name="Other").id =~ "^O[A-Z2-7]{5}$" AS O FROM scope()`, `[{"O":true}]`, ""},
		{"org_create no name", owner, `SELECT org_create(name=" ") AS O FROM scope()`, `[{"O":null}]`, "needs a name"},
		{"org_create from another org", acmeAdmin, `SELECT org_create(name="Mine") AS O FROM scope()`, `[{"O":null}]`, "only the data folder's owner"},
		{"orgs show the name", owner, `SELECT * FROM orgs() WHERE OrgId =~ "acme|root"`, `[{"OrgId":"acme","Name":"Acme Corp"},{"OrgId":"root","Name":"root"}]`, ""},
		{"org shows the name", acmeAdmin, `SELECT org() AS O FROM scope()`, `[{"O":{"OrgId":"acme","Name":"Acme Corp"}}]`, ""},
		{"user_create", owner, `SELECT user_create(user="alice", roles=["administrator", "org_admin"], orgs="acme", password="pw") AS U FROM scope()`, `[{"U":"alice"}]`, "password is not kept"},
		{"user_create as the server", owner, `SELECT user_create(user=whoami(), roles="administrator", orgs="acme") AS U FROM scope()`, `[{"U":"server"}]`, ""},
		{"user_create unknown role", owner, `SELECT user_create(user="bob", roles="root") AS U FROM scope()`, `[{"U":null}]`, `unknown role "root"`},
		{"user_create unknown org", owner, `SELECT user_create(user="bob", roles="reader", orgs="nosuch") AS U FROM scope()`, `[{"U":null}]`, "there is no org nosuch"},
		{"user_create bad name", owner, `SELECT user_create(user="a b", roles="reader") AS U FROM scope()`, `[{"U":null}]`, "invalid user name"},
		{"user_create in another org refused", acmeAdmin, `SELECT user_create(user="bob", roles="reader", orgs="root") AS U FROM scope()`, `[{"U":null}]`, "not this session's"},
		{"user_create in its own org", acmeAdmin, `SELECT user_create(user="bob", roles="investigator") AS U FROM scope()`, `[{"U":"bob"}]`, ""},
		{"acme's users", acmeAdmin, `SELECT name, roles, effective_policy.org_admin AS OrgAdmin, effective_policy.collect_client AS Collect FROM gui_users()`,
			`[{"name":"alice","roles":["administrator","org_admin"],"OrgAdmin":true,"Collect":true},{"name":"bob","roles":["investigator"],"OrgAdmin":null,"Collect":true}]`, ""},
		{"all orgs", owner, `SELECT name, org_id FROM gui_users(all_orgs=TRUE)`,
			`[{"name":"alice","org_id":"acme"},{"name":"bob","org_id":"acme"},{"name":"ops","org_id":"root"}]`, ""},
		{"all orgs is its own org for others", acmeAdmin, `SELECT name, org_id FROM gui_users(all_orgs=TRUE)`,
			`[{"name":"alice","org_id":"acme"},{"name":"bob","org_id":"acme"}]`, ""},
		{"user_options set", owner, `SELECT user_options(user="ops", default_password="s3cret", theme="dark") AS O FROM scope()`,
			`[{"O":{"theme":"dark","default_password":"s3cret"}}]`, ""},
		{"user_options of oneself", reader, `SELECT user_options(user=whoami()).default_password AS P FROM scope()`, `[{"P":"s3cret"}]`, ""},
		{"user_message", owner, `SELECT user_message(user="ops", message=dict(title="CVE")) AS U FROM scope()`, `[{"U":"ops"}]`, ""},
		{"user_message free args", owner, `SELECT user_message(user="ops", title="Blog") AS U FROM scope()`, `[{"U":"ops"}]`, ""},
		{"user_message unknown", owner, `SELECT user_message(user="nobody", title="x") AS U FROM scope()`, `[{"U":null}]`, `has no principal "nobody"`},
		{"messages read and cleared", reader, `SELECT sender, message FROM user_messages(clear=TRUE)`,
			`[{"sender":"server","message":{"title":"CVE"}},{"sender":"server","message":{"title":"Blog"}}]`, ""},
		{"messages cleared", reader, `SELECT * FROM user_messages()`, `[]`, ""},
		{"RSSFeeds' send", owner, `SELECT user_message(user=name, message=dict(title="t")) AS User FROM gui_users() WHERE name =~ "."`, `[{"User":"ops"}]`, ""},
	})
}

// TestLabelEvents: label changes go to Server.Internal.Label, an
// INTERNAL queue watchers see live, as Velociraptor's labeler sends them.
func TestLabelEvents(t *testing.T) {
	inst := queuetest.New(t, nil)
	newRegistryOn(t, inst)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := inst.M.Watch(ctx, "root", fleet.LabelQueue, queues.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	go func() {
		for row := range seq {
			id, _ := row.GetString("ClientId")
			op, _ := row.GetString("Operation")
			l, _ := row.GetString("Label")
			got <- id + " " + op + " " + l
		}
	}()
	runCases(t, inst, []vqlCase{
		{"set", owner, `SELECT label(client_id="C.00000000000000ab", labels="Slack").Op AS L FROM scope()`, `[{"L":"set"}]`, ""},
		{"remove", owner, `SELECT label(client_id="C.00000000000000ab", labels="slack", op="remove").Op AS L FROM scope()`, `[{"L":"remove"}]`, ""},
	})
	for _, want := range []string{"C.00000000000000ab Add Slack", "C.00000000000000ab Remove slack"} {
		select {
		case g := <-got:
			if g != want {
				t.Errorf("event %q, want %q", g, want)
			}
		case <-ctx.Done():
			t.Fatalf("no event %q", want)
		}
	}
}
