package functions_test

import (
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/vql"
)

// TestNotebookTimelines builds super-timelines from real rows in a data
// folder, reads them merged in time order, and deletes them as
// Server.Utils.RemoveTimeline and Server.Utils.DeleteNotebook do.
func TestNotebookTimelines(t *testing.T) {
	inst := queuetest.New(t, nil)
	admin := vql.Identity{Org: "root", Principal: "admin", All: true}
	const logins = `SELECT * FROM foreach(row=[
  dict(When="2024-01-02T10:00:00Z", User="bob", Message="bob logged in"),
  dict(When="2024-01-01T09:00:00Z", User="eve", Message="eve logged in"),
  dict(When=NULL, User="nobody")])`
	const procs = `SELECT * FROM foreach(row=[
  dict(Start=1704106800, Name="cmd.exe", Pid=4),
  dict(Start=1704200000, Name="evil.exe", Pid=66, Why="launched")])`
	for _, tc := range []struct {
		name string
		id   vql.Identity
		q    string
		want []string
		log  string
	}{
		{"add a child", admin, `SELECT timeline_add(notebook_id="N.1", timeline="Case", name="Logins", key="When", query={` + logins + `}) AS st FROM scope()`,
			[]string{`{"st":{"name":"Case","timelines":[{"id":"Logins","start_time":1704099600,"end_time":1704189600,"timestamp_column":"When","message_column":"","timestamp_description_column":"","rows":2}]}}`},
			"1 rows had no time in column When"},
		{"add another, with NotebookId", admin, `LET NotebookId = "N.1"
SELECT timeline_add(timeline="Case", name="Processes", key="Start", message_column="Name", ts_desc_column="Why", query={` + procs + `}).timelines.id AS ids FROM scope()`,
			[]string{`{"ids":["Logins","Processes"]}`}, ""},
		{"merged in time order", admin, `SELECT Timestamp, Message, Description, _Source FROM timeline(notebook_id="N.1", timeline="Case")`,
			[]string{
				`{"Timestamp":"2024-01-01T09:00:00Z","Message":"eve logged in","Description":"","_Source":"Logins"}`,
				`{"Timestamp":"2024-01-01T11:00:00Z","Message":"cmd.exe","Description":"","_Source":"Processes"}`,
				`{"Timestamp":"2024-01-02T10:00:00Z","Message":"bob logged in","Description":"","_Source":"Logins"}`,
				`{"Timestamp":"2024-01-02T12:53:20Z","Message":"evil.exe","Description":"launched","_Source":"Processes"}`}, ""},
		{"an event's columns", admin, `SELECT * FROM timeline(notebook_id="N.1", timeline="Case", components="Processes") LIMIT 1`,
			[]string{`{"Timestamp":"2024-01-01T11:00:00Z","Message":"cmd.exe","Description":"","Start":1704106800,"Pid":4,"_Source":"Processes"}`}, ""},
		{"skip and start", admin, `SELECT Message FROM timeline(notebook_id="N.1", timeline="Case", skip=["Processes"], start="2024-01-02T00:00:00Z")`,
			[]string{`{"Message":"bob logged in"}`}, ""},
		{"as TimesketchUpload lists them", admin, `SELECT * FROM foreach(row={SELECT * FROM timelines(notebook_id="N.1") WHERE name = "Case"}, query={SELECT id, rows FROM timelines})`,
			[]string{`{"id":"Logins","rows":2}`, `{"id":"Processes","rows":2}`}, ""},
		{"a message made of the columns", admin, `SELECT timeline_add(notebook_id="N.1", timeline="Other", name="NoMsg", key="T", query={SELECT 86400 AS T, "x" AS A, 1 AS B FROM scope()}).name AS n FROM scope()`,
			[]string{`{"n":"Other"}`}, ""},
		{"default message", admin, `SELECT Message FROM timeline(notebook_id="N.1", timeline="Other")`, []string{`{"Message":"A: x B: 1 "}`}, ""},
		{"as RemoveTimeline removes a child", admin, `SELECT timeline_delete(timeline="Case", notebook_id="N.1", name="Logins") AS Removed FROM scope()`,
			[]string{`{"Removed":true}`}, ""},
		{"the child is gone", admin, `SELECT count() AS n, _Source FROM timeline(notebook_id="N.1", timeline="Case") GROUP BY _Source`,
			[]string{`{"n":2,"_Source":"Processes"}`}, ""},
		{"no such child", admin, `SELECT timeline_delete(timeline="Case", notebook_id="N.1", name="Logins") AS r FROM scope()`,
			[]string{`{"r":null}`}, "has no child Logins"},
		{"a whole super-timeline", admin, `SELECT timeline_delete(timeline="Other", notebook_id="N.1") AS r, {SELECT name FROM timelines(notebook_id="N.1")} AS left FROM scope()`,
			[]string{`{"r":true,"left":"Case"}`}, ""},
		{"no notebook id", admin, `SELECT * FROM timelines()`, nil, "notebook_id: a notebook_id is required"},
		{"unknown timeline", admin, `SELECT * FROM timeline(notebook_id="N.1", timeline="Nope")`, nil, "notebook N.1 has no timeline Nope"},
		{"another org does not see it", vql.Identity{Org: "o2", Principal: "admin", All: true}, `SELECT * FROM timelines(notebook_id="N.1")`, nil, "notebook N.1: not found"},
		{"timeline_delete needs NOTEBOOK_EDITOR", vql.Identity{Org: "root", Principal: "r", Granted: []vql.Permission{vql.PermReadResults}},
			`SELECT timeline_delete(timeline="Case", notebook_id="N.1") AS r FROM scope()`, []string{`{"r":null}`}, "lacks NOTEBOOK_EDITOR"},
		{"dry run", admin, `SELECT type, vfs_path, rows, really_do_it FROM notebook_delete(notebook_id="N.1")`,
			[]string{`{"type":"Notebook","vfs_path":"notebooks/N.1","rows":null,"really_do_it":false}`,
				`{"type":"Notebook","vfs_path":"notebooks/N.1/timelines/Case","rows":null,"really_do_it":false}`,
				`{"type":"Filestore","vfs_path":"notebooks/N.1/timelines/Case/Processes","rows":2,"really_do_it":false}`}, ""},
		{"still there", admin, `SELECT name FROM timelines(notebook_id="N.1")`, []string{`{"name":"Case"}`}, ""},
		{"as DeleteNotebook really does it", admin, `SELECT count() AS n FROM notebook_delete(notebook_id="N.1", really_do_it=TRUE) GROUP BY 1`,
			[]string{`{"n":3}`}, ""},
		{"gone", admin, `SELECT * FROM notebook_delete(notebook_id="N.1")`, nil, "notebook N.1 is not known"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, logs := runAs(t, inst, tc.id, nil, tc.q)
			if strings.Join(rows, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s\n got: %v\nwant: %v\nlogs: %s", tc.q, rows, tc.want, logs)
			}
			if tc.log != "" && !strings.Contains(logs, tc.log) {
				t.Errorf("no log holds %q: %s", tc.log, logs)
			}
		})
	}
	// Nothing of the notebook is left in the store.
	left := 0
	_ = inst.M.Storage().Scan("notebooks/", func(string, []byte) error { left++; return nil })
	if left != 0 {
		t.Errorf("%d keys left after notebook_delete", left)
	}
}
