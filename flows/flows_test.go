package flows_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/flows"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

var defs = map[string]string{
	"numbers.yaml": `name: Custom.Server.Numbers
type: SERVER
parameters:
  - name: Count
    type: int
    default: "2"
sources:
  - query: SELECT _value AS N FROM range(start=0, end=Count)
  - name: Doubled
    query: SELECT _value * 2 AS D FROM range(start=0, end=Count)
`,
	"fails.yaml": `name: Custom.Server.Fails
type: SERVER
sources:
  - query: SELECT log(message="it broke", level="ERROR") AS X FROM scope()
`,
	"slow.yaml": `name: Custom.Server.Slow
type: SERVER
sources:
  - query: SELECT * FROM clock(period=0.05) LIMIT 2000
`,
	"info.yaml": `name: Custom.Client.Info
type: CLIENT
parameters:
  - name: Verbose
    default: "N"
sources:
  - query: SELECT 1 AS One FROM scope()
`,
	"events.yaml": `name: Custom.Client.Events
type: CLIENT_EVENT
sources:
  - query: SELECT 1 FROM scope()
`,
}

// fleet is a small registry of clients with labels.
type fleet map[string][]string

func (f fleet) Exists(org, id string) (bool, error) {
	_, ok := f[id]
	return ok, nil
}

func (f fleet) Matching(org string, include, exclude []string, os string) ([]string, error) {
	var out []string
	for id, labels := range f {
		in := len(include) == 0
		for _, l := range labels {
			if slices.Contains(include, l) {
				in = true
			}
			if slices.Contains(exclude, l) {
				in = false
				break
			}
		}
		if in {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

type env struct {
	t    *testing.T
	inst *queuetest.Instance
	svc  *flows.Service
	e    *vql.Engine
}

func newEnv(t *testing.T, clients flows.Clients) *env {
	inst := queuetest.New(t, defs)
	e := vqlq.NewQueueEngine(inst.Provider())
	svc := flows.New(inst.Provider(), clients)
	for _, p := range svc.Plugins(plugins.SourcePlugin(inst.Provider())) {
		e.AddPlugin(p)
	}
	for _, f := range svc.Functions() {
		e.AddFunction(f)
	}
	t.Cleanup(svc.Wait)
	return &env{t: t, inst: inst, svc: svc, e: e}
}

var admin = vql.Identity{Principal: "admin", All: true}

// run runs text as id and returns the last statement's rows as JSON, and
// the log.
func (v *env) run(id vql.Identity, text string) (string, []string) {
	v.t.Helper()
	var mu sync.Mutex
	var logs []string
	sess := v.e.NewSession(vql.SessionOptions{Identity: id, UploadDir: filepath.Join(v.inst.Dir, "uploads"),
		OnLog: func(m vql.Message) { mu.Lock(); logs = append(logs, m.String()); mu.Unlock() }})
	defer sess.Close()
	seq, err := sess.RunText(context.Background(), text)
	if err != nil {
		v.t.Fatalf("%s: %v", text, err)
	}
	last, rows := -1, []any{}
	for r := range seq {
		if r.Statement != last {
			last, rows = r.Statement, []any{}
		}
		rows = append(rows, r.Row)
	}
	b, err := value.EncodeJSON(rows)
	if err != nil {
		v.t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return string(b), logs
}

// value runs text and returns the first column of its one row.
func (v *env) value(text string) string {
	v.t.Helper()
	got, logs := v.run(admin, text)
	for _, l := range logs {
		if strings.HasPrefix(l, "ERROR") {
			v.t.Fatalf("%s: %s", text, l)
		}
	}
	return got
}

func hasLog(logs []string, s string) bool {
	return slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, s) })
}

// flowID starts a server flow and waits for it to end.
func (v *env) serverFlow(query string) string {
	v.t.Helper()
	got, logs := v.run(admin, "SELECT "+query+".flow_id AS F FROM scope()")
	v.svc.Wait()
	var rows []map[string]string
	if err := json.Unmarshal([]byte(got), &rows); err != nil || len(rows) != 1 || !strings.HasPrefix(rows[0]["F"], "F.") {
		v.t.Fatalf("%s: %s %v", query, got, logs)
	}
	return rows[0]["F"]
}

func TestServerFlowRunsAndStoresItsRows(t *testing.T) {
	v := newEnv(t, nil)
	f := v.serverFlow("collect_client(client_id='server', artifacts='Custom.Server.Numbers', env=dict(Count=3))")
	for _, tc := range []struct{ name, query, want string }{
		{"flows", "SELECT session_id = '" + f + "' AS Same, client_id, state, status, total_collected_rows, artifacts_with_results, request.artifacts AS A, request.creator AS Creator, request.specs[0].parameters.env AS Env FROM flows(client_id='server')",
			`[{"Same":true,"client_id":"server","state":"FINISHED","status":"","total_collected_rows":6,"artifacts_with_results":["Custom.Server.Numbers","Custom.Server.Numbers/Doubled"],"A":["Custom.Server.Numbers"],"Creator":"admin","Env":[{"key":"Count","value":"3"}]}]`},
		{"get_flow", "SELECT get_flow(client_id='server', flow_id='" + f + "').state AS S, get_flow(client_id='server', flow_id='" + f + "').execution_duration > 0 AS Took FROM scope()",
			`[{"S":"FINISHED","Took":true}]`},
		{"source", "SELECT * FROM source(client_id='server', flow_id='" + f + "', artifact='Custom.Server.Numbers')",
			`[{"N":0},{"N":1},{"N":2}]`},
		{"named source", "SELECT * FROM source(client_id='server', flow_id='" + f + "', artifact='Custom.Server.Numbers', source='Doubled')",
			`[{"D":0},{"D":2},{"D":4}]`},
		{"named source in the name", "SELECT * FROM source(client_id='server', flow_id='" + f + "', artifact='Custom.Server.Numbers/Doubled') LIMIT 1",
			`[{"D":0}]`},
		{"completion", "SELECT FlowId = '" + f + "' AS Same, ClientId, Flow.state AS S FROM source(artifact='System.Flow.Completion')",
			`[{"Same":true,"ClientId":"server","S":"FINISHED"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.value(tc.query); got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s", tc.query, got, tc.want)
			}
		})
	}
	real := filepath.Join(v.inst.Dir, flows.FileStoreDir, "root", "clients", "server", "collections", f, "Custom.Server.Numbers.jsonl")
	if b, err := os.ReadFile(real); err != nil || string(b) != "{\"N\":0}\n{\"N\":1}\n{\"N\":2}\n" {
		t.Errorf("results file %s: %q %v", real, b, err)
	}
}

func TestServerFlowStates(t *testing.T) {
	v := newEnv(t, nil)
	failed := v.serverFlow("collect_client(client_id='server', artifacts='Custom.Server.Fails')")
	if got := v.value("SELECT state, status FROM flows(client_id='server', flow_id='" + failed + "')"); got != `[{"state":"ERROR","status":"it broke"}]` {
		t.Errorf("failed flow: %s", got)
	}
	if got := v.value("SELECT level, message FROM source(client_id='server', flow_id='" + failed + "', artifact='Custom.Server.Fails') WHERE FALSE"); got != `[]` {
		t.Errorf("a source without rows: %s", got)
	}
	got, _ := v.run(admin, "SELECT collect_client(client_id='server', artifacts='Custom.Server.Slow').flow_id AS F FROM scope()")
	slow := strings.Split(got, `"`)[3]
	time.Sleep(100 * time.Millisecond)
	if got := v.value("SELECT cancel_flow(client_id='server', flow_id='" + slow + "').cancelled AS C FROM scope()"); got != `[{"C":true}]` {
		t.Errorf("cancel: %s", got)
	}
	v.svc.Wait()
	if got := v.value("SELECT state, status FROM flows(client_id='server', flow_id='" + slow + "')"); got != `[{"state":"ERROR","status":"Cancelled by admin"}]` {
		t.Errorf("cancelled flow: %s", got)
	}
	if got := v.value("SELECT cancel_flow(client_id='server', flow_id='" + slow + "').cancelled AS C FROM scope()"); got != `[{"C":false}]` {
		t.Errorf("cancel again: %s", got)
	}
	if got := v.value("SELECT operation, details.flow_id = '" + slow + "' AS Same FROM source(artifact='Server.Audit.Logs') WHERE operation = 'cancel_flow'"); got != `[{"operation":"cancel_flow","Same":true}]` {
		t.Errorf("audit: %s", got)
	}
}

func TestDeleteFlowDryRunThenReally(t *testing.T) {
	v := newEnv(t, nil)
	f := v.serverFlow("collect_client(client_id='server', artifacts='Custom.Server.Numbers')")
	dir := filepath.Join(v.inst.Dir, flows.FileStoreDir, "root", "clients", "server", "collections", f)
	org := "root"
	want := `[{"Type":"Result","P":"/Custom.Server.Numbers.jsonl","Error":""},{"Type":"Result","P":"/Custom.Server.Numbers/Doubled.jsonl","Error":""},{"Type":"Log","P":"/logs.jsonl","Error":""},{"Type":"CollectionContext","P":"flows/` + org + `/server/` + f + `","Error":""}]`
	query := "SELECT Type, regex_replace(source=Data.VFSPath, re='^/clients/server/collections/" + f + "', replace='') AS P, Error FROM delete_flow(client_id='server', flow_id='" + f + "'"
	if got := v.value(query + ")"); got != want {
		t.Errorf("dry run\n got: %s\nwant: %s", got, want)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a dry run removed the files: %v", err)
	}
	if got := v.value("SELECT count() AS N FROM flows(client_id='server')"); got != `[{"N":1}]` {
		t.Fatalf("a dry run removed the record: %s", got)
	}
	if got := v.value(query + ", really_do_it=TRUE)"); got != want {
		t.Errorf("really\n got: %s\nwant: %s", got, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the files are still there: %v", err)
	}
	if got := v.value("SELECT * FROM flows(client_id='server')"); got != `[]` {
		t.Errorf("the record is still there: %s", got)
	}
	if _, logs := v.run(admin, "SELECT get_flow(client_id='server', flow_id='"+f+"') FROM scope()"); !hasLog(logs, "flow "+f+" of client server is not known in org root") {
		t.Errorf("deleted flow: %v", logs)
	}
	if got := v.value("SELECT count() AS N FROM source(artifact='Server.Audit.Logs') WHERE operation = 'delete_flow'"); got != `[{"N":1}]` {
		t.Errorf("audit of the deletion (dry runs are not audited): %s", got)
	}
}

func TestHuntSchedulesAFlowOnEveryMatchingClient(t *testing.T) {
	v := newEnv(t, fleet{"C.1": {"lab"}, "C.2": {"lab"}, "C.3": {"prod"}})
	got := v.value("SELECT hunt(description='d', artifacts='Custom.Client.Info', include_labels='lab', spec=dict(`Custom.Client.Info`=dict(Verbose='Y'))).hunt_id AS H FROM scope()")
	h := strings.Split(got, `"`)[3]
	if !strings.HasPrefix(h, "H.") {
		t.Fatalf("hunt id: %s", got)
	}
	for _, tc := range []struct{ name, query, want string }{
		{"hunt_flows", "SELECT HuntId = '" + h + "' AS Same, ClientId, Flow.client_id AS C, Flow.state AS S, Flow.session_id = FlowId AS Id, Flow.request.specs[0].parameters.env[0].value AS V FROM hunt_flows(hunt_id='" + h + "')",
			`[{"Same":true,"ClientId":"C.1","C":"C.1","S":"WAITING","Id":true,"V":"Y"},{"Same":true,"ClientId":"C.2","C":"C.2","S":"WAITING","Id":true,"V":"Y"}]`},
		{"paging", "SELECT ClientId FROM hunt_flows(hunt_id='" + h + "', start_row=1, limit=5)", `[{"ClientId":"C.2"}]`},
		{"hunts", "SELECT hunt_description, state, stats.total_clients_scheduled AS N, start_request.artifacts AS A FROM hunts()",
			`[{"hunt_description":"d","state":"RUNNING","N":2,"A":["Custom.Client.Info"]}]`},
		{"client flows", "SELECT state, request.creator = '" + h + "' AS ByHunt FROM flows(client_id='C.2')", `[{"state":"WAITING","ByHunt":true}]`},
		{"no results yet", "SELECT * FROM hunt_results(hunt_id='" + h + "')", `[]`},
		{"hunt_add a third", "SELECT hunt_add(hunt_id='" + h + "', client_id='C.3').ClientId AS C FROM scope()", `[{"C":"C.3"}]`},
		{"three now", "SELECT count() AS N FROM hunt_flows(hunt_id='" + h + "') GROUP BY 1", `[{"N":3}]`},
		{"stop", "SELECT hunt_update(hunt_id='" + h + "', stop=TRUE, add_labels='Deleting...').state AS S FROM scope()", `[{"S":"STOPPED"}]`},
		{"tags", "SELECT tags FROM hunts(hunt_id='" + h + "')", `[{"tags":["Deleting..."]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.value(tc.query); got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s", tc.query, got, tc.want)
			}
		})
	}
	// A paused hunt schedules nothing until it starts.
	got = v.value("SELECT hunt(artifacts='Custom.Client.Info', pause=TRUE, exclude_labels='prod').hunt_id AS H FROM scope()")
	paused := strings.Split(got, `"`)[3]
	if got := v.value("SELECT * FROM hunt_flows(hunt_id='" + paused + "')"); got != `[]` {
		t.Errorf("paused hunt: %s", got)
	}
	if got := v.value("SELECT hunt_update(hunt_id='" + paused + "', state='RUNNING').stats.total_clients_scheduled AS N FROM scope()"); got != `[{"N":2}]` {
		t.Errorf("started hunt: %s", got)
	}
	// Deleting the hunt takes its flows.
	if got := v.value("SELECT Type, Error FROM hunt_delete(hunt_id='" + h + "', really_do_it=TRUE) WHERE Type != 'Log'"); got != `[{"Type":"CollectionContext","Error":""},{"Type":"CollectionContext","Error":""},{"Type":"CollectionContext","Error":""},{"Type":"Hunt","Error":""}]` {
		t.Errorf("hunt_delete: %s", got)
	}
	if got := v.value("SELECT count() AS N FROM flows(client_id='C.1') GROUP BY 1"); got != `[{"N":1}]` {
		t.Errorf("C.1 keeps only the second hunt's flow: %s", got)
	}
}

func TestHuntResultsAndDownloads(t *testing.T) {
	v := newEnv(t, fleet{"C.1": nil})
	f := v.serverFlow("collect_client(client_id='server', artifacts='Custom.Server.Numbers')")
	got := v.value("SELECT hunt(artifacts='Custom.Client.Info', pause=TRUE).hunt_id AS H FROM scope()")
	h := strings.Split(got, `"`)[3]
	// A server flow joins the hunt by flow_id: its rows are the hunt's.
	if got := v.value("SELECT hunt_add(hunt_id='" + h + "', client_id='server', flow_id='" + f + "').FlowId = '" + f + "' AS Same FROM scope()"); got != `[{"Same":true}]` {
		t.Fatalf("hunt_add flow: %s", got)
	}
	if got := v.value("SELECT ClientId, N FROM hunt_results(hunt_id='" + h + "', artifact='Custom.Server.Numbers')"); got != `[{"ClientId":"server","N":0},{"ClientId":"server","N":1}]` {
		t.Errorf("hunt_results: %s", got)
	}
	if got := v.value("SELECT ClientId, D FROM source(hunt_id='" + h + "', artifact='Custom.Server.Numbers', source='Doubled')"); got != `[{"ClientId":"server","D":0},{"ClientId":"server","D":2}]` {
		t.Errorf("source(hunt_id=): %s", got)
	}
	for _, tc := range []struct {
		call  string
		files []string
	}{
		{"create_flow_download(client_id='server', flow_id='" + f + "', wait=TRUE)",
			[]string{"collection_context.json", "log.json", "results/Custom.Server.Numbers.json", "results/Custom.Server.Numbers.csv", "results/Custom.Server.Numbers/Doubled.json", "results/Custom.Server.Numbers/Doubled.csv"}},
		{"create_hunt_download(hunt_id='" + h + "', format='json', base='x-', only_combined=TRUE)",
			[]string{"hunt_info.json", "results/Custom.Server.Numbers.json", "results/Custom.Server.Numbers/Doubled.json"}},
	} {
		got := v.value("SELECT " + tc.call + " AS P FROM scope()")
		path := strings.Split(got, `"`)[3]
		real := v.value("SELECT file_store(path='" + path + "') AS R FROM scope()")
		realPath := strings.Split(real, `"`)[3]
		if !strings.HasPrefix(realPath, filepath.Join(v.inst.Dir, flows.FileStoreDir, "root", "downloads")) {
			t.Errorf("%s: %s is not in the file store's downloads", tc.call, realPath)
		}
		zr, err := zip.OpenReader(realPath)
		if err != nil {
			t.Fatalf("%s: %v", tc.call, err)
		}
		var names []string
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		zr.Close()
		if !slices.Equal(names, tc.files) {
			t.Errorf("%s: zip holds %v, want %v", tc.call, names, tc.files)
		}
		if got := v.value("SELECT file_store_delete(path='" + path + "') = '" + path + "' AS Gone FROM scope()"); got != `[{"Gone":true}]` {
			t.Errorf("file_store_delete: %s", got)
		}
		if _, err := os.Stat(realPath); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", realPath, err)
		}
	}
}

func TestSourceReadsOneClientsEvents(t *testing.T) {
	v := newEnv(t, nil)
	for _, c := range []string{"C.1", "C.2", "C.1"} {
		if _, err := v.inst.M.Send(context.Background(), "root", "Custom.Client.Events",
			ordereddict.NewDict().Set("ClientId", c).Set("X", 1), queues.Sender{Principal: "server", Internal: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.value("SELECT ClientId FROM source(artifact='Custom.Client.Events', client_id='C.1')"); got != `[{"ClientId":"C.1"},{"ClientId":"C.1"}]` {
		t.Errorf("one client's events: %s", got)
	}
	if got := v.value("SELECT count() AS N FROM source(artifact='Custom.Client.Events') GROUP BY 1"); got != `[{"N":3}]` {
		t.Errorf("every client's events: %s", got)
	}
}

func TestErrorsNameWhatIsMissing(t *testing.T) {
	v := newEnv(t, fleet{"C.1": nil})
	for _, tc := range []struct{ name, query, log string }{
		{"unknown client", "SELECT collect_client(client_id='C.nope', artifacts='Custom.Client.Info') FROM scope()", "collect_client: client C.nope is not known in org root"},
		{"unknown artifact", "SELECT collect_client(client_id='server', artifacts='Custom.Nope') FROM scope()", "artifact Custom.Nope not known"},
		{"client artifact on the server", "SELECT collect_client(client_id='server', artifacts='Custom.Client.Info') FROM scope()", "artifact Custom.Client.Info is a CLIENT artifact; the server collects SERVER artifacts"},
		{"server artifact on a client", "SELECT collect_client(client_id='C.1', artifacts='Custom.Server.Numbers') FROM scope()", "a client collects CLIENT artifacts"},
		{"bad client id", "SELECT collect_client(client_id='../etc', artifacts='Custom.Client.Info') FROM scope()", `client_id "../etc" is not an id`},
		{"bad env", "SELECT collect_client(client_id='server', artifacts='Custom.Server.Numbers', env='x') FROM scope()", "env: should be a dict"},
		{"unknown flow", "SELECT get_flow(client_id='server', flow_id='F.NOPE') FROM scope()", "get_flow: flow F.NOPE of client server is not known in org root"},
		{"unknown flow in source", "SELECT * FROM source(client_id='server', flow_id='F.NOPE', artifact='Custom.Server.Numbers')", "flow F.NOPE of client server is not known"},
		{"source flow without client", "SELECT * FROM source(flow_id='F.NOPE', artifact='Custom.Server.Numbers')", "source: flow_id=F.NOPE: client_id: name the flow's client"},
		{"client artifact without flow", "SELECT * FROM source(client_id='C.1', artifact='Custom.Client.Info')", "Custom.Client.Info is a CLIENT artifact, whose results are in flows: give flow_id"},
		{"unknown hunt", "SELECT * FROM hunt_flows(hunt_id='H.NOPE')", "hunt_flows: hunt H.NOPE is not known in org root"},
		{"unknown hunt update", "SELECT hunt_update(hunt_id='H.NOPE', stop=TRUE) FROM scope()", "hunt H.NOPE is not known"},
		{"bad hunt state", "SELECT hunt_update(hunt_id='H.NOPE', state='DONE') FROM scope()", `state: "DONE" is not RUNNING, PAUSED or STOPPED`},
		{"expired hunt", "SELECT hunt(artifacts='Custom.Client.Info', expires=now() - 10) FROM scope()", "is in the past"},
		{"start an expired hunt", "SELECT hunt_update(hunt_id=hunt(artifacts='Custom.Client.Info', pause=TRUE).hunt_id, start=TRUE, expires=now() - 5) FROM scope()", "which is past; give a later expires= to start it"},
		{"hunt_add unknown client", "SELECT hunt_add(hunt_id=hunt(artifacts='Custom.Client.Info', pause=TRUE).hunt_id, client_id='C.9') FROM scope()", "client C.9 is not known"},
		{"outside the file store", "SELECT file_store(path='/clients/../../x') FROM scope()", "leaves the file store"},
		{"delete outside", "SELECT file_store_delete(path='../uploads') FROM scope()", "leaves the file store"},
		{"delete missing", "SELECT file_store_delete(path='/downloads/x.zip') FROM scope()", "/downloads/x.zip is not in the file store"},
		{"password", "SELECT create_flow_download(client_id='server', flow_id='F.X', password='p') FROM scope()", "encrypted zips are not supported"},
		{"flow_id of collect_client", "SELECT collect_client(client_id='server', flow_id='F.X', artifacts='Custom.Server.Numbers') FROM scope()", "adding to an existing flow is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := v.run(admin, tc.query)
			if !hasLog(logs, tc.log) {
				t.Errorf("%s: no log holds %q; rows %s, logs %q", tc.query, tc.log, got, logs)
			}
		})
	}
}

func TestReaderIsRefused(t *testing.T) {
	v := newEnv(t, fleet{"C.1": nil})
	f := v.serverFlow("collect_client(client_id='server', artifacts='Custom.Server.Numbers')")
	reader := vql.Identity{Principal: "ops", Role: "reader", Granted: []vql.Permission{vql.PermReadResults}}
	for _, tc := range []struct{ query, log string }{
		{"SELECT collect_client(client_id='server', artifacts='Custom.Server.Numbers') FROM scope()", "lacks COLLECT_SERVER"},
		{"SELECT collect_client(client_id='C.1', artifacts='Custom.Client.Info') FROM scope()", "lacks COLLECT_CLIENT"},
		{"SELECT cancel_flow(client_id='server', flow_id='" + f + "') FROM scope()", "lacks COLLECT_SERVER"},
		{"SELECT * FROM delete_flow(client_id='server', flow_id='" + f + "', really_do_it=TRUE)", "lacks DELETE_RESULTS"},
		{"SELECT hunt(artifacts='Custom.Client.Info') FROM scope()", "lacks START_HUNT"},
		{"SELECT * FROM hunt_delete(hunt_id='H.X')", "lacks SERVER_ADMIN"},
		{"SELECT create_flow_download(client_id='server', flow_id='" + f + "') FROM scope()", "lacks PREPARE_RESULTS"},
		{"SELECT file_store_delete(path='/x') FROM scope()", "lacks SERVER_ADMIN"},
	} {
		if _, logs := v.run(reader, tc.query); !hasLog(logs, tc.log) {
			t.Errorf("%s: no log holds %q: %q", tc.query, tc.log, logs)
		}
	}
	if got, logs := v.run(reader, "SELECT count() AS N FROM source(client_id='server', flow_id='"+f+"', artifact='Custom.Server.Numbers') GROUP BY 1"); got != `[{"N":2}]` {
		t.Errorf("a reader reads results: %s %q", got, logs)
	}
	if got := v.value("SELECT count() AS N FROM flows(client_id='server') GROUP BY 1"); got != `[{"N":1}]` {
		t.Errorf("the refused calls changed the flows: %s", got)
	}
}

// TestFsAccessorReadsTheOrgsFileStore walks and reads a flow's results
// through accessor="fs", as Server.Utils.DeleteMonitoringData walks the
// file store, and deletes one by the OSPath glob() gave.
func TestFsAccessorReadsTheOrgsFileStore(t *testing.T) {
	v := newEnv(t, nil)
	f := v.serverFlow("collect_client(client_id='server', artifacts='Custom.Server.Numbers', env=dict(Count=2))")
	dir := "/clients/server/collections/" + f
	for _, tc := range []struct{ name, query, want string }{
		{"glob", "SELECT OSPath.Basename AS B, IsDir, if(condition=IsDir, then=NULL, else=Size) AS Size FROM glob(globs='/clients/*/collections/*/**', accessor='fs')",
			`[{"B":"Custom.Server.Numbers","IsDir":true,"Size":null},{"B":"Doubled.jsonl","IsDir":false,"Size":16},{"B":"Custom.Server.Numbers.jsonl","IsDir":false,"Size":16},{"B":"logs.jsonl","IsDir":false,"Size":0}]`},
		{"glob with a root", "SELECT OSPath FROM glob(globs='*.jsonl', root='" + dir + "', accessor='fs') WHERE Name =~ 'Numbers'",
			`[{"OSPath":"` + dir + `/Custom.Server.Numbers.jsonl"}]`},
		{"read_file", "SELECT read_file(filename='" + dir + "/Custom.Server.Numbers.jsonl', accessor='fs') AS D FROM scope()",
			`[{"D":"{\"N\":0}\n{\"N\":1}\n"}]`},
		{"parse_jsonl", "SELECT N FROM parse_jsonl(filename='" + dir + "/Custom.Server.Numbers.jsonl', accessor='fs')",
			`[{"N":0},{"N":1}]`},
		{"nothing stored yet", "SELECT * FROM glob(globs='/clients/C.none/**', accessor='fs')", `[]`},
		{"delete by the OSPath glob gives", "SELECT file_store_delete(path=OSPath) AS D FROM glob(globs='" + dir + "/logs.jsonl', accessor='fs')",
			`[{"D":"` + dir + `/logs.jsonl"}]`},
		{"gone", "SELECT Name FROM glob(globs='" + dir + "/logs.jsonl', accessor='fs')", `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.value(tc.query); got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s", tc.query, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		id    vql.Identity
		query string
		log   string
	}{
		{"outside the file store", admin, "SELECT read_file(filename='/../uploads/x', accessor='fs') FROM scope()", "leaves the file store"},
		{"a missing file is named by its store path", admin, "SELECT read_file(filename='/clients/x.json', accessor='fs') FROM scope()", "fs: /clients/x.json: no such file"},
		{"needs READ_RESULTS", vql.Identity{Principal: "p", Granted: []vql.Permission{vql.PermFilesystemRead}},
			"SELECT * FROM glob(globs='/**', accessor='fs')", "lacks READ_RESULTS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := v.run(tc.id, tc.query)
			if !hasLog(logs, tc.log) {
				t.Errorf("%s: no log holds %q; rows %s, logs %q", tc.query, tc.log, got, logs)
			}
		})
	}
	other := vql.Identity{Org: "o2", Principal: "admin", All: true}
	if got, _ := v.run(other, "SELECT Name FROM glob(globs='/**', accessor='fs')"); got != `[]` {
		t.Errorf("another org sees %s", got)
	}
}
