package forward_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

const receive = "name: Server.Events.Receive\ntype: SERVER_EVENT\n"

// env is a throw-away data folder with the queue Server.Events.Receive.
type env struct {
	*queuetest.Instance
	t *testing.T
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{Instance: queuetest.New(t, map[string]string{"r.yaml": receive}), t: t}
}

// owner is the data folder's owner in root, as the command line runs.
var owner = vql.Identity{Org: "root", Principal: "server", All: true, AllOrgs: true}

// run is a running query: its rows of the last statement and its log.
type run struct {
	mu     sync.Mutex
	rows   []string
	logs   []string
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs text in the background as id.
func (e *env) start(id vql.Identity, text string) *run {
	e.t.Helper()
	prog, err := parser.Parse(text, "")
	if err != nil {
		e.t.Fatal(err)
	}
	r := &run{done: make(chan struct{})}
	s := vqlq.NewQueueEngine(e.Provider()).NewSession(vql.SessionOptions{Identity: id, OnLog: func(m vql.Message) {
		r.mu.Lock()
		r.logs = append(r.logs, m.String())
		r.mu.Unlock()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	r.cancel = cancel
	go func() {
		defer close(r.done)
		last := -1
		for res := range s.Run(ctx, prog) {
			b, _ := output.Marshal(res.Row)
			r.mu.Lock()
			if res.Statement != last {
				r.rows, last = nil, res.Statement
			}
			r.rows = append(r.rows, string(b))
			r.mu.Unlock()
		}
	}()
	return r
}

// stop cancels the query and waits for it to end.
func (r *run) stop() ([]string, []string) {
	r.cancel()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rows, r.logs
}

func (r *run) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

// query runs text to its end and returns its rows and log.
func (e *env) query(text string) ([]string, []string) {
	e.t.Helper()
	r := e.start(owner, text)
	<-r.done
	return r.stop()
}

// send sends n events {i, bad?} to Server.Events.Receive: i is 0…n-1,
// and the rows whose i is in bad carry bad: 'x'.
func (e *env) send(from, n int, bad map[int]bool) {
	e.t.Helper()
	for i := from; i < from+n; i++ {
		row := fmt.Sprintf("dict(i=%d)", i)
		if bad[i] {
			row = fmt.Sprintf("dict(i=%d, bad='x')", i)
		}
		if _, logs := e.query(`SELECT send_event(artifact='Server.Events.Receive', row=` + row + `) FROM scope()`); len(logs) > 0 {
			e.t.Fatalf("send: %v", logs)
		}
	}
}

// waitFor polls cond until it holds; the deadline only keeps a broken
// forwarder from hanging the test.
func waitFor(t *testing.T, what string, r *run, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, r.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deadLetters returns the dead-letter queue's rows as {id, queue, seq,
// status, reason, row.i}, sorted by id.
func (e *env) deadLetters() []string {
	rows, _ := e.query(`SELECT id, queue, seq, status, reason, row.i AS i FROM source(artifact='Server.Forward.DeadLetters')`)
	sort.Strings(rows)
	return rows
}

func (e *env) position(consumer string) string {
	rows, _ := e.query(`SELECT position, lag FROM consumers() WHERE name = '` + consumer + `'`)
	return strings.Join(rows, " ")
}

// ids are the document ids Server.Events.Receive:seq for the given
// event positions (seq = i+1: the queue's first event is 1).
func ids(is ...int) []string {
	var out []string
	for _, i := range is {
		out = append(out, fmt.Sprintf("Server.Events.Receive:%d", i+1))
	}
	sort.Strings(out)
	return out
}

func seqRange(n int, skip map[int]bool) []int {
	var out []int
	for i := range n {
		if !skip[i] {
			out = append(out, i)
		}
	}
	return out
}

const fast = `retry_wait=0.005, max_wait=0.02, wait_time=0.05`

// TestElasticIndexesEveryEventOnce runs elastic_upload as the tail of a
// consumer query against a bulk API that fails in each way a real cluster
// does, and checks, once the sink recovers, that the index holds every
// event exactly once under its <queue>:<seq> id, that the documents it
// rejected for good are in the dead-letter queue with the reason, and
// that the consumer's position is past every event.
func TestElasticIndexesEveryEventOnce(t *testing.T) {
	bad := map[int]bool{7: true, 23: true, 31: true}
	const n = 40
	cases := []struct {
		name string
		// late: the sink starts only after the first refused sends.
		late     bool
		fail     func(n int) string
		itemFail func(doc map[string]any, attempt int) int
		// wantRetries: the forwarder must have repeated a send.
		wantRetries bool
		maxDocs     int
	}{
		{name: "413 for a batch: sent one by one", maxDocs: 1},
		{name: "refused until it starts", late: true, wantRetries: true},
		{name: "429 and 503 for whole requests", fail: func(n int) string {
			return map[int]string{1: "refuse-429", 2: "refuse-503", 4: "refuse-429"}[n]
		}, wantRetries: true},
		{name: "partial bulk failures", itemFail: func(doc map[string]any, attempt int) int {
			i := int(doc["i"].(float64))
			if i%3 == 0 && attempt <= 2 {
				return 429 // per-item overload: sent again
			}
			if i%5 == 0 && attempt == 1 {
				return 503
			}
			return 0
		}, wantRetries: true},
		{name: "killed mid-batch", fail: func(n int) string {
			if n == 2 || n == 3 {
				return "kill"
			}
			return ""
		}, wantRetries: true},
		{name: "no failure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			es := newESIndex()
			es.fail = tc.fail
			es.maxDocs = tc.maxDocs
			userItemFail := tc.itemFail
			es.itemFail = func(doc map[string]any, attempt int) int {
				if doc["bad"] != nil {
					return 400
				}
				if userItemFail != nil {
					return userItemFail(doc, attempt)
				}
				return 0
			}
			srv := newSinkServer(t, es)
			if !tc.late {
				srv.up()
			}
			e.send(0, n, bad)
			r := e.start(owner, `SELECT * FROM elastic_upload(
				query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='es', start_time=0)},
				addresses=['`+srv.url()+`'], index='events', type='ClientEvents', chunk_size=6, `+fast+`)`)
			if tc.late {
				waitFor(t, "a refused send", r, func() bool { return strings.Contains(r.log(), "connection refused") })
				srv.up()
			}
			wantIndexed := ids(seqRange(n, bad)...)
			waitFor(t, "every good event indexed", r, func() bool { return es.count("events") == len(wantIndexed) })
			waitFor(t, "the consumer past every event", r, func() bool { return e.position("es") == `{"position":40,"lag":0}` })
			stats, _ := e.query(`SELECT forwarder, forwarded, dead_letters, retries > 0 AS retried FROM consumers() WHERE name = 'es'`)
			rows, logs := r.stop()

			if got := es.ids("events"); !reflect.DeepEqual(got, wantIndexed) {
				t.Errorf("indexed ids:\n got %v\nwant %v", got, wantIndexed)
			}
			for _, i := range seqRange(n, bad) {
				doc := es.doc("events", ids(i)[0])
				if doc["i"] != float64(i) || doc["_seq"] != float64(i+1) || doc["_Source"] != "server" || len(doc) != 4 {
					t.Errorf("document of event %d: %v", i, doc)
				}
			}
			if es.noID != 0 {
				t.Errorf("%d documents sent without an id", es.noID)
			}
			want := []string{
				`{"id":"Server.Events.Receive:24","queue":"Server.Events.Receive","seq":24,"status":400,"reason":"status 400: mapper_parsing_exception: failed to parse field [bad] of type [long]","i":23}`,
				`{"id":"Server.Events.Receive:32","queue":"Server.Events.Receive","seq":32,"status":400,"reason":"status 400: mapper_parsing_exception: failed to parse field [bad] of type [long]","i":31}`,
				`{"id":"Server.Events.Receive:8","queue":"Server.Events.Receive","seq":8,"status":400,"reason":"status 400: mapper_parsing_exception: failed to parse field [bad] of type [long]","i":7}`,
			}
			if got := e.deadLetters(); !reflect.DeepEqual(got, want) {
				t.Errorf("dead letters:\n got %v\nwant %v", got, want)
			}
			wantStats := fmt.Sprintf(`{"forwarder":"elastic_upload %s","forwarded":37,"dead_letters":3,"retried":%v}`, srv.url(), tc.wantRetries)
			if strings.Join(stats, " ") != wantStats {
				t.Errorf("consumers() while forwarding:\n got %v\nwant %s", stats, wantStats)
			}
			if len(rows) == 0 || !strings.HasPrefix(rows[0], `{"Sink":"elastic_upload `+srv.url()+`","Documents":`) {
				t.Errorf("rows: %v", rows)
			}
			if strings.Contains(strings.Join(logs, "\n"), "ERROR") {
				t.Errorf("errors logged: %v", logs)
			}
		})
	}
}

// TestElasticMaxRetries: with max_retries, a document the sink keeps
// failing is given up to the dead-letter queue, saying why, and the
// others go on.
func TestElasticMaxRetries(t *testing.T) {
	e := newEnv(t)
	es := newESIndex()
	es.itemFail = func(doc map[string]any, _ int) int {
		if doc["i"] == float64(2) {
			return 503
		}
		return 0
	}
	srv := newSinkServer(t, es)
	srv.up()
	e.send(0, 4, nil)
	rows, logs := e.query(`SELECT * FROM elastic_upload(addresses=['` + srv.url() + `'], index='events', max_retries=2, ` + fast + `,
		query={SELECT * FROM source(artifact='Server.Events.Receive')})`)
	if strings.Join(rows, " ") != `{"Sink":"elastic_upload `+srv.url()+`","Documents":4,"Forwarded":3,"Retries":2,"DeadLetters":1}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
	want := []string{`{"id":"Server.Events.Receive:3","queue":"Server.Events.Receive","seq":3,"status":0,"reason":"gave up after 3 attempts: status 503: es_rejected_execution_exception: rejected execution of coordinating operation","i":2}`}
	if got := e.deadLetters(); !reflect.DeepEqual(got, want) {
		t.Errorf("dead letters:\n got %v\nwant %v", got, want)
	}
	if got := es.ids("events"); !reflect.DeepEqual(got, ids(0, 1, 3)) {
		t.Errorf("indexed %v", got)
	}
}

// TestElasticStoppedMidwayLosesNothing stops a forwarder while the bulk
// API refuses everything, with a batch in flight, restarts the store as a
// new process would, and forwards again with the same consumer: the
// position never passed an event that was not indexed, and in the end
// each event is in the index once.
func TestElasticStoppedMidwayLosesNothing(t *testing.T) {
	e := newEnv(t)
	es := newESIndex()
	var mu sync.Mutex
	refuse := false
	es.fail = func(int) string {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return "refuse-503"
		}
		return ""
	}
	srv := newSinkServer(t, es)
	srv.up()
	forward := `SELECT * FROM elastic_upload(
		query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='es', start_time=0)},
		addresses=['` + srv.url() + `'], index='events', chunk_size=5, ` + fast + `)`
	e.send(0, 12, nil)
	r := e.start(owner, forward)
	waitFor(t, "the first events indexed", r, func() bool { return es.count("events") == 12 })
	waitFor(t, "their acknowledgement", r, func() bool { return e.position("es") == `{"position":12,"lag":0}` })
	mu.Lock()
	refuse = true
	mu.Unlock()
	e.send(12, 13, nil)
	waitFor(t, "a refused batch", r, func() bool { return strings.Contains(r.log(), "HTTP 503") })
	r.stop()
	// Nothing past what the index holds was acknowledged.
	if got := e.position("es"); got != `{"position":12,"lag":13}` {
		t.Errorf("position after the stop: %s", got)
	}
	e.Restart()
	mu.Lock()
	refuse = false
	mu.Unlock()
	r = e.start(owner, forward)
	waitFor(t, "every event indexed", r, func() bool { return es.count("events") == 25 })
	waitFor(t, "every event acknowledged", r, func() bool { return e.position("es") == `{"position":25,"lag":0}` })
	r.stop()
	if got, want := es.ids("events"), ids(seqRange(25, nil)...); !reflect.DeepEqual(got, want) {
		t.Errorf("ids:\n got %v\nwant %v", got, want)
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	for id, w := range es.writes {
		if w != 1 {
			t.Errorf("%s written %d times", id, w)
		}
	}
}

// TestDeadLettersReplay replays the dead-letter queue, fixed, into the
// index: the rows come back from source() with foreach(column='row'),
// named after their dead letter, so a replay run twice indexes each once.
func TestDeadLettersReplay(t *testing.T) {
	e := newEnv(t)
	es := newESIndex()
	es.itemFail = func(doc map[string]any, _ int) int {
		if doc["bad"] != nil {
			return 400
		}
		return 0
	}
	srv := newSinkServer(t, es)
	srv.up()
	e.send(0, 6, map[int]bool{1: true, 4: true})
	r := e.start(owner, `SELECT * FROM elastic_upload(query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='es', start_time=0)},
		addresses=['`+srv.url()+`'], index='events', `+fast+`)`)
	waitFor(t, "two dead letters", r, func() bool { return len(e.deadLetters()) == 2 })
	r.stop()
	replay := `SELECT * FROM elastic_upload(addresses=['` + srv.url() + `'], index='replayed', ` + fast + `,
		query={SELECT i, 'fixed' AS note FROM foreach(row={SELECT * FROM source(artifact='Server.Forward.DeadLetters')}, column='row')})`
	for range 2 {
		rows, logs := e.query(replay)
		if strings.Join(rows, " ") != `{"Sink":"elastic_upload `+srv.url()+`","Documents":2,"Forwarded":2,"Retries":0,"DeadLetters":0}` {
			t.Fatalf("replay: %v %v", rows, logs)
		}
	}
	if got := es.ids("replayed"); !reflect.DeepEqual(got, []string{"Server.Forward.DeadLetters:1", "Server.Forward.DeadLetters:2"}) {
		t.Fatalf("replayed ids %v", got)
	}
	if d := es.doc("replayed", "Server.Forward.DeadLetters:2"); !reflect.DeepEqual(d, map[string]any{"i": float64(4), "note": "fixed"}) {
		t.Errorf("replayed document %v", d)
	}
}

// TestElasticCreateAndRowIDs: with action=create a document resent after
// a lost answer meets 409 and counts as indexed; an _id column names the
// document and an _index column picks the index (over index=, lower
// case), neither is sent inside it; one event that makes two rows gives
// two documents.
func TestElasticCreateAndRowIDs(t *testing.T) {
	e := newEnv(t)
	es := newESIndex()
	es.fail = func(n int) string { return "" }
	srv := newSinkServer(t, es)
	srv.up()
	e.send(0, 2, nil)
	rows, logs := e.query(`SELECT * FROM elastic_upload(action='create', addresses=['` + srv.url() + `'], index='default', ` + fast + `,
		query={SELECT * FROM chain(
			a={SELECT 'mine-' + str(str=i) AS _id, 'By-ID' AS _index, i FROM source(artifact='Server.Events.Receive')},
			b={SELECT * FROM foreach(row={SELECT i FROM source(artifact='Server.Events.Receive')}, query={SELECT i, _value AS part, 'parts' AS _index FROM range(end=2)})},
			c={SELECT 'mine-0' AS _id, 'by-id' AS _index, 'again' AS i FROM scope()})})`)
	if strings.Join(rows, " ") != `{"Sink":"elastic_upload `+srv.url()+`","Documents":7,"Forwarded":7,"Retries":0,"DeadLetters":0}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
	if got := es.ids("by-id"); !reflect.DeepEqual(got, []string{"mine-0", "mine-1"}) {
		t.Errorf("by-id: %v", got)
	}
	if d := es.doc("by-id", "mine-0"); !reflect.DeepEqual(d, map[string]any{"i": float64(0)}) {
		t.Errorf("mine-0 (create keeps the first): %v", d)
	}
	want := []string{"Server.Events.Receive:1", "Server.Events.Receive:1:1", "Server.Events.Receive:2", "Server.Events.Receive:2:1"}
	if got := es.ids("parts"); !reflect.DeepEqual(got, want) {
		t.Errorf("parts: %v", got)
	}
	if n := es.count("default"); n != 0 {
		t.Errorf("%d documents in the index of rows without _index", n)
	}
}

// TestSideBySideQueriesAreNotMisnamed: when rows reach the forwarder
// from another goroutine (chain(async=TRUE), foreach(workers=…)), which
// event a row came from cannot be told as it passes: such rows go without
// an id (the sink names them) rather than under another event's id,
// which would overwrite that event.
func TestSideBySideQueriesAreNotMisnamed(t *testing.T) {
	cases := []struct{ name, query string }{
		{"chain async", `SELECT * FROM chain(async=TRUE,
			a={SELECT i, 'a' AS side FROM source(artifact='Server.Events.Receive')},
			b={SELECT i, 'b' AS side FROM source(artifact='Server.Events.Receive')})`},
		{"foreach workers", `SELECT * FROM foreach(workers=3, row={SELECT i FROM source(artifact='Server.Events.Receive')},
			query={SELECT i, side FROM foreach(row=[dict(side='a'), dict(side='b')])})`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			es := newESIndex()
			srv := newSinkServer(t, es)
			srv.up()
			e.send(0, 200, nil)
			rows, logs := e.query(`SELECT * FROM elastic_upload(addresses=['` + srv.url() + `'], index='events', chunk_size=1000, ` + fast + `,
				query={` + tc.query + `})`)
			if len(rows) != 1 || !strings.Contains(rows[0], `"Documents":400,"Forwarded":400,`) {
				t.Fatalf("rows %v logs %v", rows, logs)
			}
			if n := es.count("events"); n != 400 || es.noID != 400 {
				t.Errorf("%d documents in the index, %d sent without id; want 400 and 400", n, es.noID)
			}
			seen := map[string]bool{}
			for _, id := range es.ids("events") {
				d := es.doc("events", id)
				seen[fmt.Sprint(d["i"], d["side"])] = true
			}
			if len(seen) != 400 {
				t.Errorf("%d distinct rows indexed, want 400", len(seen))
			}
		})
	}
}

// TestDetachedConsumerIsRefused: a named consumer read behind a stage
// that hands its rows on from another goroutine cannot be acknowledged
// exactly by a forwarder (a row could still be on its way when its event
// is acknowledged): the watch is refused, saying why, before the
// consumer is created.
func TestDetachedConsumerIsRefused(t *testing.T) {
	watch := `{SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='es', start_time=0)}`
	for _, query := range []string{
		`SELECT * FROM chain(async=TRUE, a=` + watch + `)`,
		`SELECT * FROM foreach(row=` + watch + `, query={SELECT i FROM scope()}, workers=2)`,
		`SELECT * FROM foreach(row={SELECT * FROM batch(batch_size=2, query=` + watch + `)}, column='rows')`,
		`SELECT * FROM delay(delay=0.01, query=` + watch + `)`,
	} {
		e := newEnv(t)
		es := newESIndex()
		srv := newSinkServer(t, es)
		srv.up()
		e.send(0, 3, nil)
		r := e.start(owner, `SELECT * FROM elastic_upload(addresses=['`+srv.url()+`'], index='events', `+fast+`, query={`+query+`})`)
		waitFor(t, "the refusal", r, func() bool { return strings.Contains(r.log(), "ERROR") })
		_, logs := r.stop()
		want := `watch_monitoring: consumer "es" of Server.Events.Receive: ` + queues.ErrDetachedConsumer.Error()
		if !strings.Contains(strings.Join(logs, "\n"), want) {
			t.Errorf("%s: logs %v, want %q", query, logs, want)
		}
		if got := e.position("es"); got != "" || es.count("events") != 0 {
			t.Errorf("%s: consumer %q (want none created), %d indexed", query, got, es.count("events"))
		}
	}
}

// TestSplunkCollectsEveryEventOnce is TestElasticIndexesEveryEventOnce
// for the HTTP Event Collector: busy answers, a bad event in a batch
// (those before it are indexed, it goes to the dead-letter queue, those
// after it are sent again), a collector killed mid-batch.
func TestSplunkCollectsEveryEventOnce(t *testing.T) {
	bad := map[int]bool{4: true, 17: true}
	const n = 24
	cases := []struct {
		name string
		late bool
		fail func(n int) string
	}{
		{name: "refused until it starts", late: true},
		{name: "busy", fail: func(n int) string { return map[int]string{1: "busy", 2: "busy", 5: "busy"}[n] }},
		{name: "killed mid-batch", fail: func(n int) string { return map[int]string{2: "kill", 3: "kill"}[n] }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			hec := &hecCollector{token: "s3cret", fail: tc.fail}
			srv := newSinkServer(t, hec)
			if !tc.late {
				srv.up()
			}
			e.send(0, n, bad)
			r := e.start(owner, `SELECT * FROM splunk_upload(
				query={SELECT *, 'web-'+str(str=i % 2) AS Host, 1700000000 + i AS When FROM watch_monitoring(artifact='Server.Events.Receive', consumer='hec', start_time=0)},
				url='`+srv.url()+`/services/collector', token='s3cret', index='velociraptor', hostname_field='Host', timestamp_field='When',
				chunk_size=5, `+fast+`)`)
			if tc.late {
				waitFor(t, "a refused send", r, func() bool { return strings.Contains(r.log(), "connection refused") })
				srv.up()
			}
			waitFor(t, "the consumer past every event", r, func() bool { return e.position("hec") == `{"position":24,"lag":0}` })
			r.stop()
			got := hec.byID()
			want := map[string]int{}
			for _, id := range ids(seqRange(n, bad)...) {
				want[id] = 1
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("events by id:\n got %v\nwant %v", got, want)
			}
			for _, ev := range hec.all() {
				event := ev["event"].(map[string]any)
				i := event["i"].(float64)
				wantHost := fmt.Sprintf("web-%d", int(i)%2)
				if ev["host"] != wantHost || ev["time"] != 1700000000+i || ev["source"] != "velociraptor" || ev["sourcetype"] != "vql" || ev["index"] != "velociraptor" {
					t.Errorf("event %v", ev)
				}
			}
			wantDL := []string{
				`{"id":"Server.Events.Receive:18","queue":"Server.Events.Receive","seq":18,"status":400,"reason":"HTTP 400: Invalid data format (code 6)","i":17}`,
				`{"id":"Server.Events.Receive:5","queue":"Server.Events.Receive","seq":5,"status":400,"reason":"HTTP 400: Invalid data format (code 6)","i":4}`,
			}
			if got := e.deadLetters(); !reflect.DeepEqual(got, wantDL) {
				t.Errorf("dead letters:\n got %v\nwant %v", got, wantDL)
			}
		})
	}
}

// TestSplunkWrongTokenIsRetriedNotDeadLettered: a 401 is the collector's
// configuration, not the events': they wait, none is dead-lettered.
func TestSplunkWrongTokenIsRetriedNotDeadLettered(t *testing.T) {
	e := newEnv(t)
	hec := &hecCollector{token: "right"}
	srv := newSinkServer(t, hec)
	srv.up()
	e.send(0, 3, nil)
	r := e.start(owner, `SELECT * FROM splunk_upload(query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='hec', start_time=0)},
		url='`+srv.url()+`/services/collector', token='wrong', `+fast+`)`)
	waitFor(t, "a refusal", r, func() bool { return strings.Contains(r.log(), `HTTP 401: {"text":"Invalid authorization","code":3}`) })
	_, logs := r.stop()
	if got := e.position("hec"); got != `{"position":0,"lag":3}` {
		t.Errorf("position %s; log %v", got, logs)
	}
	if dl := e.deadLetters(); len(dl) != 0 || len(hec.all()) != 0 {
		t.Errorf("dead letters %v, events %v", dl, hec.all())
	}
}

// TestWebhookAcknowledgesOnlyWhatWasAccepted: webhook_upload posts each
// row; an event whose post failed (500) is not acknowledged until a
// repeat is answered 2xx, one refused with 422 is a dead letter, and
// every post carries the document id as Idempotency-Key.
func TestWebhookAcknowledgesOnlyWhatWasAccepted(t *testing.T) {
	e := newEnv(t)
	hook := &hookReceiver{accepted: map[string][]map[string]any{}, seen: map[string]int{}}
	srv := newSinkServer(t, hook)
	srv.up()
	rows, _ := e.query(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value, flaky=if(condition=_value % 2 = 0, then=TRUE), bad=if(condition=_value = 3, then=TRUE))) FROM range(end=6)`)
	if len(rows) != 6 {
		t.Fatalf("send: %v", rows)
	}
	r := e.start(owner, `SELECT * FROM webhook_upload(query={SELECT i, flaky, bad FROM watch_monitoring(artifact='Server.Events.Receive', consumer='hook', start_time=0)},
		url='`+srv.url()+`/hook/secret-path', headers=dict(`+"`X-Team`"+`='ir'), chunk_size=2, `+fast+`)`)
	waitFor(t, "every event acknowledged", r, func() bool { return e.position("hook") == `{"position":6,"lag":0}` })
	stats, _ := e.query(`SELECT forwarder, forwarded, retries, dead_letters, last_error FROM consumers()`)
	r.stop()
	hook.mu.Lock()
	var keys []string
	for k, v := range hook.accepted {
		if len(v) != 1 {
			t.Errorf("%s accepted %d times", k, len(v))
		}
		keys = append(keys, k)
	}
	retriedEven := hook.seen["Server.Events.Receive:1"] == 2 && hook.seen["Server.Events.Receive:2"] == 1
	hook.mu.Unlock()
	sort.Strings(keys)
	if want := ids(0, 1, 2, 4, 5); !reflect.DeepEqual(keys, want) {
		t.Errorf("accepted %v, want %v", keys, want)
	}
	if !retriedEven {
		t.Errorf("the flaky event was not posted twice, or a good one was")
	}
	want := `{"forwarder":"webhook_upload ` + srv.url() + `","forwarded":5,"retries":3,"dead_letters":1,"last_error":"1 document: HTTP 500: try later\n"}`
	if strings.Join(stats, " ") != want {
		t.Errorf("consumers():\n got %v\nwant %s", stats, want)
	}
	dl := e.deadLetters()
	if len(dl) != 1 || dl[0] != `{"id":"Server.Events.Receive:4","queue":"Server.Events.Receive","seq":4,"status":422,"reason":"HTTP 422: field bad is not allowed\n","i":3}` {
		t.Errorf("dead letters %v", dl)
	}
}

// TestForwarderArguments: bad arguments are refused with a message that
// names them, and nothing runs.
func TestForwarderArguments(t *testing.T) {
	e := newEnv(t)
	q := `query={SELECT * FROM scope()}`
	cases := []struct{ text, want string }{
		{`elastic_upload(` + q + `, chunk_size=0)`, "elastic_upload: chunk_size must be at least 1, not 0"},
		{`elastic_upload(` + q + `, action='upsert')`, `elastic_upload: action must be index or create, not "upsert"`},
		{`elastic_upload(` + q + `, addresses=['ftp://x'])`, `elastic_upload: address "ftp://x": want http:// or https:// and a host`},
		{`elastic_upload(` + q + `, cloud_id='name:!!')`, "elastic_upload: cloud_id: not name:base64: illegal base64 data at input byte 0"},
		{`elastic_upload(` + q + `, root_ca='not pem')`, "elastic_upload: root_ca: no PEM certificate in it"},
		{`elastic_upload(` + q + `, wait_time=0)`, "elastic_upload: wait_time must be more than 0 seconds"},
		{`elastic_upload(` + q + `, max_retries=-1)`, "elastic_upload: max_retries must be 0 (for ever) or more, not -1"},
		{`elastic_upload(` + q + `, dead_letter='Server.Events.Nope')`, "elastic_upload: dead-letter queue: send_event: artifact Server.Events.Nope not known"},
		{`splunk_upload(` + q + `, url='localhost:8088')`, `splunk_upload: url "localhost:8088": want http:// or https:// and a host`},
		{`webhook_upload(` + q + `, url='http://127.0.0.1:1/', method='GET')`, `webhook_upload: method must be POST, PUT or PATCH, not "GET"`},
	}
	for _, tc := range cases {
		rows, logs := e.query(`SELECT * FROM ` + tc.text)
		if len(rows) != 0 || len(logs) == 0 || !strings.Contains(logs[0], tc.want) {
			t.Errorf("%s:\n rows %v\n logs %v\n want %q", tc.text, rows, logs, tc.want)
		}
	}
}

// TestForwarderPermissions: a forwarder needs NETWORK; naming a
// dead-letter queue of one's own also needs PUBLISH, since the forwarder
// sends to it.
func TestForwarderPermissions(t *testing.T) {
	e := newEnv(t)
	reader := vql.Identity{Org: "root", Principal: "dash", Role: "reader", Granted: []vql.Permission{vql.PermReadResults}}
	network := vql.Identity{Org: "root", Principal: "fwd", Role: "custom", Granted: []vql.Permission{vql.PermReadResults, vql.PermNetwork}}
	cases := []struct {
		id   vql.Identity
		text string
		want string
	}{
		{reader, `elastic_upload(query={SELECT * FROM scope()})`, "elastic_upload: permission denied: dash (reader) lacks NETWORK"},
		{network, `webhook_upload(query={SELECT * FROM scope()}, url='http://127.0.0.1:1/', dead_letter='Server.Events.Receive')`, "webhook_upload: permission denied: fwd (custom) lacks PUBLISH"},
	}
	for _, tc := range cases {
		r := e.start(tc.id, `SELECT * FROM `+tc.text)
		<-r.done
		rows, logs := r.stop()
		if len(rows) != 0 || !strings.Contains(strings.Join(logs, "\n"), tc.want) {
			t.Errorf("%s: rows %v logs %v, want %q", tc.text, rows, logs, tc.want)
		}
	}
}

// TestForwarderQueryThatEnds: a consumer query that ends by itself
// (LIMIT) is forwarded to its last row, and the consumer is acknowledged
// exactly that far: the next forwarder of the consumer goes on from
// there.
func TestForwarderQueryThatEnds(t *testing.T) {
	e := newEnv(t)
	es := newESIndex()
	srv := newSinkServer(t, es)
	srv.up()
	e.send(0, 8, nil)
	forward := `SELECT * FROM elastic_upload(addresses=['` + srv.url() + `'], index='events', chunk_size=3, ` + fast + `,
		query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='es', start_time=0) LIMIT 5})`
	rows, logs := e.query(forward)
	if len(rows) != 2 || es.count("events") != 5 {
		t.Fatalf("rows %v logs %v, %d indexed", rows, logs, es.count("events"))
	}
	if got := e.position("es"); got != `{"position":5,"lag":3}` {
		t.Errorf("position after the first run: %s", got)
	}
	// Three are left: this one waits for more, having sent them.
	r := e.start(owner, forward)
	waitFor(t, "the rest indexed", r, func() bool { return es.count("events") == 8 })
	waitFor(t, "the rest acknowledged", r, func() bool { return e.position("es") == `{"position":8,"lag":0}` })
	r.stop()
	if got, want := es.ids("events"), ids(seqRange(8, nil)...); !reflect.DeepEqual(got, want) {
		t.Errorf("ids:\n got %v\nwant %v", got, want)
	}
}
