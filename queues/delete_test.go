package queues_test

import (
	"strings"
	"testing"
	"time"
)

// TestDeleteEvents: delete_events() reports what a time range holds,
// deletes it only with really_do_it, audits the deletion, keeps it deleted
// across a restart, and touches no other org or queue.
func TestDeleteEvents(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	send := func(org, group string) {
		e.run(org, `SELECT send_event(artifact='Server.Events.Receive', row=dict(g='`+group+`', i=_value)) FROM range(end=3)`)
	}
	var cuts []string
	for _, g := range []string{"a", "b", "c"} {
		time.Sleep(10 * time.Millisecond)
		cuts = append(cuts, time.Now().UTC().Format(time.RFC3339Nano))
		time.Sleep(10 * time.Millisecond)
		send("root", g)
	}
	send("acme", "x")
	stored := func(org string) string {
		rows, logs := e.run(org, `SELECT g, i FROM source(artifact='Server.Events.Receive')`)
		if len(logs) > 0 {
			t.Errorf("source: %v", logs)
		}
		return strings.Join(rows, " ")
	}
	const all = `{"g":"a","i":0} {"g":"a","i":1} {"g":"a","i":2} {"g":"b","i":0} {"g":"b","i":1} {"g":"b","i":2} {"g":"c","i":0} {"g":"c","i":1} {"g":"c","i":2}`
	const withoutB = `{"g":"a","i":0} {"g":"a","i":1} {"g":"a","i":2} {"g":"c","i":0} {"g":"c","i":1} {"g":"c","i":2}`
	del := `SELECT Type, Data.Count AS Count, Data.FirstSeq AS First, Data.LastSeq AS Last, Data.Deleted AS Deleted, Error
	  FROM delete_events(artifact='Server.Events.Receive', client_id='server', start_time='` + cuts[1] + `', end_time='` + cuts[2] + `'`
	cases := []struct {
		name, query, rows, left, log string
	}{
		{"dry run", del + `)`, `{"Type":"events","Count":3,"First":4,"Last":6,"Deleted":false,"Error":null}`, all, ""},
		{"really", del + `, really_do_it=TRUE)`, `{"Type":"events","Count":3,"First":4,"Last":6,"Deleted":true,"Error":null}`, withoutB, ""},
		{"again: nothing left there", del + `, really_do_it=TRUE)`, `{"Type":"events","Count":0,"First":0,"Last":0,"Deleted":false,"Error":null}`, withoutB, ""},
		{"a client's events", `SELECT * FROM delete_events(artifact='Server.Events.Receive', client_id='C.1234', really_do_it=TRUE)`, "", withoutB,
			`delete_events: client_id "C.1234": vqlq keeps one queue for every client's events`},
		{"an INTERNAL queue", `SELECT * FROM delete_events(artifact='Server.Internal.ClientPing', really_do_it=TRUE)`, "", withoutB,
			"delete_events: Server.Internal.ClientPing is an INTERNAL artifact: only SERVER_EVENT and CLIENT_EVENT queues keep events to delete"},
		{"no queue", `SELECT * FROM delete_events(artifact='', really_do_it=TRUE)`, "", withoutB, "delete_events: artifact is empty: name the queue whose events to delete"},
		{"an unknown queue", `SELECT * FROM delete_events(artifact='No.Such', really_do_it=TRUE)`, "", withoutB, "delete_events: artifact No.Such not known"},
	}
	for _, c := range cases {
		rows, logs := e.run("root", c.query)
		if got := strings.Join(rows, " "); got != c.rows {
			t.Errorf("%s: rows %s, want %s", c.name, got, c.rows)
		}
		if c.log != "" && !strings.Contains(strings.Join(logs, "\n"), c.log) {
			t.Errorf("%s: log %v lacks %q", c.name, logs, c.log)
		}
		if got := stored("root"); got != c.left {
			t.Errorf("%s: left %s, want %s", c.name, got, c.left)
		}
	}
	audit, _ := e.run("root", `SELECT operation, principal, details.queue AS queue, details.count AS count, details.first_seq AS first FROM source(artifact='Server.Audit.Logs') WHERE operation = 'delete_events'`)
	if got := strings.Join(audit, " "); got != `{"operation":"delete_events","principal":"server","queue":"Server.Events.Receive","count":3,"first":4}` {
		t.Errorf("audit: %s", got)
	}
	e.restart()
	if got := stored("root"); got != withoutB {
		t.Errorf("after a restart: %s", got)
	}
	if got := stored("acme"); got != `{"g":"x","i":0} {"g":"x","i":1} {"g":"x","i":2}` {
		t.Errorf("acme's queue changed: %s", got)
	}
	// The queue goes on after the gap.
	send("root", "d")
	if got := stored("root"); got != withoutB+` {"g":"d","i":0} {"g":"d","i":1} {"g":"d","i":2}` {
		t.Errorf("after a send: %s", got)
	}
}
