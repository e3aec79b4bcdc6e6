package forward_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// No LogScale or Azure Data Explorer can run here: the servers below are
// real HTTP servers on loopback that speak the parts of their protocols
// the forwarders use — LogScale's structured ingest endpoint
// (/api/v1/ingest/humio-structured, a bearer ingest token, a JSON array
// of {tags, events: [{timestamp, attributes}]}, a 400 for a request it
// cannot parse) and, for ADX, Microsoft Entra's client-credentials token
// endpoint (/<tenant>/oauth2/v2.0/token) and Kusto's streaming ingestion
// (/v1/rest/ingest/<db>/<table>?streamFormat=json, JSON lines, Kusto's
// error object with @permanent) — with failures injected: a 503 for a
// whole request (then success: every event must arrive exactly once) and
// a permanent 4xx (the event must land in the dead-letter queue).

// logscaleServer is a fake LogScale ingest endpoint.
type logscaleServer struct {
	token    string
	mu       sync.Mutex
	requests int
	fail     map[int]bool // requests answered 503
	// payloads as received: tags and the one event of each.
	events []map[string]any
}

func (l *logscaleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/ingest/humio-structured" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+l.token {
		http.Error(w, `{"error":"The token is not valid"}`, http.StatusUnauthorized)
		return
	}
	l.mu.Lock()
	l.requests++
	n := l.requests
	l.mu.Unlock()
	if l.fail[n] {
		http.Error(w, "ingest queue full", http.StatusServiceUnavailable)
		return
	}
	var payloads []struct {
		Tags   map[string]any `json:"tags"`
		Events []struct {
			Timestamp  string         `json:"timestamp"`
			Attributes map[string]any `json:"attributes"`
		} `json:"events"`
	}
	if err := json.NewDecoder(r.Body).Decode(&payloads); err != nil {
		http.Error(w, "could not parse the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var got []map[string]any
	for _, p := range payloads {
		for _, ev := range p.Events {
			if ev.Attributes["bad"] != nil {
				// As for a payload LogScale refuses: nothing of the
				// request is ingested.
				http.Error(w, "attribute bad is not allowed", http.StatusBadRequest)
				return
			}
			got = append(got, map[string]any{"tags": p.Tags, "timestamp": ev.Timestamp, "attributes": ev.Attributes})
		}
	}
	l.mu.Lock()
	l.events = append(l.events, got...)
	l.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (l *logscaleServer) byID() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, ev := range l.events {
		id, _ := ev["attributes"].(map[string]any)["vqlq_id"].(string)
		out[id]++
	}
	return out
}

// TestLogScaleDeliversEveryEventOnce: logscale_upload as the tail of a
// consumer query; LogScale answers 503 to the second request and refuses
// with 400 a request holding a bad event. Every good event arrives once,
// with its tags and time; the bad one is a dead letter.
func TestLogScaleDeliversEveryEventOnce(t *testing.T) {
	e := newEnv(t)
	ls := &logscaleServer{token: "ingest-1", fail: map[int]bool{2: true}}
	srv := newSinkServer(t, ls)
	srv.up()
	const n = 20
	bad := map[int]bool{5: true}
	e.send(0, n, bad)
	r := e.start(owner, `SELECT * FROM logscale_upload(
		query={SELECT *, 'C.'+str(str=i % 3) AS ClientId, 1700000000 + i AS Time, 'web-'+str(str=i) AS Host FROM watch_monitoring(artifact='Server.Events.Receive', consumer='ls', start_time=0)},
		apibaseurl='`+srv.url()+`/api', ingest_token='ingest-1', threads=2,
		tag_fields=split(string='Host=host,', sep=','), event_batch_size=4, batching_timeout_ms=50,
		http_timeout=10, stats_interval=0, debug=FALSE, retry_wait=0.005, max_wait=0.02)`)
	waitFor(t, "the consumer past every event", r, func() bool { return e.position("ls") == `{"position":20,"lag":0}` })
	stats, _ := e.query(`SELECT forwarder, forwarded, dead_letters, retries > 0 AS retried FROM consumers() WHERE name = 'ls'`)
	r.stop()
	want := map[string]int{}
	for _, id := range ids(seqRange(n, bad)...) {
		want[id] = 1
	}
	if got := ls.byID(); !reflect.DeepEqual(got, want) {
		t.Errorf("events by id:\n got %v\nwant %v", got, want)
	}
	ls.mu.Lock()
	for _, ev := range ls.events {
		attrs := ev["attributes"].(map[string]any)
		i := int(attrs["i"].(float64))
		wantTags := map[string]any{"ClientId": fmt.Sprintf("C.%d", i%3), "host": fmt.Sprintf("web-%d", i)}
		if !reflect.DeepEqual(ev["tags"], wantTags) || ev["timestamp"] != fmt.Sprintf("2023-11-14T22:13:%02dZ", 20+i) {
			t.Errorf("event %d: tags %v timestamp %v", i, ev["tags"], ev["timestamp"])
		}
	}
	ls.mu.Unlock()
	wantDL := []string{`{"id":"Server.Events.Receive:6","queue":"Server.Events.Receive","seq":6,"status":400,"reason":"HTTP 400: attribute bad is not allowed\n","i":5}`}
	if got := e.deadLetters(); !reflect.DeepEqual(got, wantDL) {
		t.Errorf("dead letters:\n got %v\nwant %v", got, wantDL)
	}
	if want := `{"forwarder":"logscale_upload ` + srv.url() + `/api","forwarded":19,"dead_letters":1,"retried":true}`; strings.Join(stats, " ") != want {
		t.Errorf("consumers():\n got %v\nwant %s", stats, want)
	}
}

// TestLogScaleMaxRetriesIsVelociraptors: max_retries=0 gives an event up
// at its first failure (Velociraptor's meaning, not the other
// forwarders' "for ever"), and a wrong token is a failure that may pass.
func TestLogScaleMaxRetriesIsVelociraptors(t *testing.T) {
	e := newEnv(t)
	ls := &logscaleServer{token: "right"}
	srv := newSinkServer(t, ls)
	srv.up()
	e.send(0, 1, nil)
	rows, logs := e.query(`SELECT * FROM logscale_upload(query={SELECT * FROM source(artifact='Server.Events.Receive')},
		apibaseurl='` + srv.url() + `/api', ingest_token='wrong', max_retries=0, batching_timeout_ms=50, retry_wait=0.005)`)
	if strings.Join(rows, " ") != `{"Sink":"logscale_upload `+srv.url()+`/api","Documents":1,"Forwarded":0,"Retries":0,"DeadLetters":1}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
	want := []string{`{"id":"Server.Events.Receive:1","queue":"Server.Events.Receive","seq":1,"status":0,"reason":"gave up after 1 attempts: HTTP 401: {\"error\":\"The token is not valid\"}\n","i":0}`}
	if got := e.deadLetters(); !reflect.DeepEqual(got, want) {
		t.Errorf("dead letters:\n got %v\nwant %v", got, want)
	}
}

// adxCluster is a fake Entra authority and Kusto cluster on one server.
type adxCluster struct {
	t        *testing.T
	base     string // the server's URL, for the token's scope
	mu       sync.Mutex
	tokens   int // tokens handed out
	requests int
	fail     map[int]string // ingest requests answered "503" or "no-policy"
	rows     []map[string]any
}

func (a *adxCluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/tenant-1/oauth2/v2.0/token" {
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != "app-1" || r.PostForm.Get("client_secret") != "s3cret" || r.PostForm.Get("scope") != a.base+"/.default" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
			return
		}
		a.mu.Lock()
		a.tokens++
		a.mu.Unlock()
		io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"aad-token"}`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/rest/ingest/velo/RawVelociraptorEvents" || r.URL.Query().Get("streamFormat") != "json" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"code":"BadRequest_EntityNotFound","message":"no %s","@permanent":true}}`, r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer aad-token" {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":"Unauthorized","message":"no token","@permanent":false}}`)
		return
	}
	a.mu.Lock()
	a.requests++
	mode := a.fail[a.requests]
	a.mu.Unlock()
	switch mode {
	case "503":
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":"ServiceUnavailable","message":"the service is busy","@permanent":false}}`)
		return
	case "no-policy":
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":"BadRequest_StreamingIngestionPolicyNotEnabled","message":"Streaming ingestion policy is not enabled for the table","@permanent":true}}`)
		return
	}
	var batch []map[string]any
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":"BadRequest_InvalidJson","message":"the data is not JSON","@permanent":true}}`)
			return
		}
		if raw, _ := row["RawData"].(map[string]any); raw["bad"] != nil {
			// As for data that does not fit the table: the whole
			// request is refused, for good.
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":"BadRequest_BadFormat","message":"RawData.bad cannot be ingested","@permanent":true}}`)
			return
		}
		batch = append(batch, row)
	}
	a.mu.Lock()
	a.rows = append(a.rows, batch...)
	a.mu.Unlock()
	io.WriteString(w, `{"Tables":[]}`)
}

func (a *adxCluster) byID() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for _, row := range a.rows {
		id, _ := row["RawData"].(map[string]any)["vqlq_id"].(string)
		out[id]++
	}
	return out
}

// TestADXIngestsEveryEventOnce: adx_upload with ADX.Flows.Upload's
// columns (_Artifact, _ClientId, …) against a cluster that answers 503
// once, refuses streaming once (not enabled: the rows wait, they are not
// dead-lettered), and refuses a bad row for good (a dead letter). Every
// good event is ingested once, shaped as Velociraptor's table wants it,
// and one token served the whole run.
func TestADXIngestsEveryEventOnce(t *testing.T) {
	e := newEnv(t)
	adx := &adxCluster{t: t, fail: map[int]string{1: "503", 3: "no-policy"}}
	srv := newSinkServer(t, adx)
	adx.base = srv.url()
	srv.up()
	const n = 15
	bad := map[int]bool{9: true}
	e.send(0, n, bad)
	r := e.start(owner, `SELECT * FROM adx_upload(
		query={SELECT *, 'Custom.Flow' AS _Artifact, 'C.'+str(str=i) AS _ClientId, 'F.1' AS _FlowId, 'root' AS _Organization, 'host-'+str(str=i) AS _Hostname, 1700000000 AS _timestamp
		       FROM watch_monitoring(artifact='Server.Events.Receive', consumer='adx', start_time=0)},
		cluster_url='`+srv.url()+`', database='velo', client_id='app-1', client_secret='s3cret', tenant_id='tenant-1',
		authority_host='`+srv.url()+`', threads=1, chunk_size=4, wait_time=0.05, max_memory_buffer=104857600, secret='',
		retry_wait=0.005, max_wait=0.02)`)
	waitFor(t, "the consumer past every event", r, func() bool { return e.position("adx") == `{"position":15,"lag":0}` })
	_, logs := r.stop()
	want := map[string]int{}
	for _, id := range ids(seqRange(n, bad)...) {
		want[id] = 1
	}
	if got := adx.byID(); !reflect.DeepEqual(got, want) {
		t.Errorf("rows by id:\n got %v\nwant %v", got, want)
	}
	adx.mu.Lock()
	for _, row := range adx.rows {
		raw := row["RawData"].(map[string]any)
		i := int(raw["i"].(float64))
		var keys []string
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if row["Artifact"] != "Custom.Flow" || row["ClientId"] != fmt.Sprintf("C.%d", i) || row["FlowId"] != "F.1" ||
			row["Organization"] != "root" || row["Hostname"] != fmt.Sprintf("host-%d", i) || row["Timestamp"] != float64(1700000000) ||
			row["IngestionTime"] == "" || strings.Join(keys, ",") != "_Source,_seq,_ts,i,vqlq_id" {
			t.Errorf("row %v", row)
		}
	}
	tokens := adx.tokens
	adx.mu.Unlock()
	if tokens != 1 {
		t.Errorf("%d tokens requested, want 1", tokens)
	}
	wantDL := []string{`{"id":"Server.Events.Receive:10","queue":"Server.Events.Receive","seq":10,"status":400,"reason":"HTTP 400: BadRequest_BadFormat: RawData.bad cannot be ingested","i":9}`}
	if got := e.deadLetters(); !reflect.DeepEqual(got, wantDL) {
		t.Errorf("dead letters:\n got %v\nwant %v", got, wantDL)
	}
	if log := strings.Join(logs, "\n"); !strings.Contains(log, "BadRequest_StreamingIngestionPolicyNotEnabled") || !strings.Contains(log, "HTTP 503: ServiceUnavailable") {
		t.Errorf("the log does not tell of the refusals:\n%s", log)
	}
}

// TestADXWrongSecretWaits: credentials the authority refuses leave the
// rows in their queue, saying why; none is dead-lettered.
func TestADXWrongSecretWaits(t *testing.T) {
	e := newEnv(t)
	adx := &adxCluster{t: t}
	srv := newSinkServer(t, adx)
	adx.base = srv.url()
	srv.up()
	e.send(0, 2, nil)
	r := e.start(owner, `SELECT * FROM adx_upload(query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='adx', start_time=0)},
		cluster_url='`+srv.url()+`', database='velo', client_id='app-1', client_secret='wrong', tenant_id='tenant-1',
		authority_host='`+srv.url()+`', wait_time=0.05, retry_wait=0.005, max_wait=0.02)`)
	waitFor(t, "a refusal", r, func() bool {
		return strings.Contains(r.log(), "getting a token: HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.")
	})
	r.stop()
	if got := e.position("adx"); got != `{"position":0,"lag":2}` {
		t.Errorf("position %s", got)
	}
	if dl := e.deadLetters(); len(dl) != 0 {
		t.Errorf("dead letters %v", dl)
	}
}

// TestADXSecretFromServerMetadata: secret= names a server_metadata()
// entry whose settings win over the arguments (the artifact passes its
// placeholder cluster_url).
func TestADXSecretFromServerMetadata(t *testing.T) {
	e := newEnv(t)
	adx := &adxCluster{t: t}
	srv := newSinkServer(t, adx)
	adx.base = srv.url()
	srv.up()
	e.send(0, 3, nil)
	if _, logs := e.query(`SELECT server_set_metadata(adx=dict(cluster_url='` + srv.url() + `', database='velo', client_id='app-1', client_secret='s3cret', tenant_id='tenant-1')) FROM scope()`); len(logs) > 0 {
		t.Fatal(logs)
	}
	rows, logs := e.query(`SELECT * FROM adx_upload(query={SELECT * FROM source(artifact='Server.Events.Receive')},
		cluster_url='https://your-cluster.region.kusto.windows.net', database='other', secret='adx', authority_host='` + srv.url() + `', wait_time=0.05)`)
	if strings.Join(rows, " ") != `{"Sink":"adx_upload `+srv.url()+` velo.RawVelociraptorEvents","Documents":3,"Forwarded":3,"Retries":0,"DeadLetters":0}` {
		t.Fatalf("rows %v logs %v", rows, logs)
	}
}

// TestCloudForwarderArguments: bad arguments are refused naming them.
func TestCloudForwarderArguments(t *testing.T) {
	e := newEnv(t)
	q := `query={SELECT * FROM scope()}`
	cases := []struct{ text, want string }{
		{`logscale_upload(` + q + `, apibaseurl='cloud.humio.com', ingest_token='x')`, `logscale_upload: apibaseurl "cloud.humio.com": want http:// or https:// and a host`},
		{`logscale_upload(` + q + `, apibaseurl='https://h/api', ingest_token='')`, "logscale_upload: ingest_token must not be empty"},
		{`logscale_upload(` + q + `, apibaseurl='https://h/api', ingest_token='x', tag_fields=['=x'])`, `logscale_upload: tag_fields: "=x" names no column`},
		{`logscale_upload(` + q + `, apibaseurl='https://h/api', ingest_token='x', event_batch_size=0)`, "logscale_upload: chunk_size must be at least 1, not 0"},
		{`adx_upload(` + q + `, database='velo', client_id='a', client_secret='b', tenant_id='c')`, "adx_upload: cluster_url is required"},
		{`adx_upload(` + q + `, cluster_url='https://c', client_id='a', client_secret='b', tenant_id='c')`, "adx_upload: database is required"},
		{`adx_upload(` + q + `, cluster_url='https://c', database='velo', client_id='a')`, "adx_upload: client_id, client_secret and tenant_id are required (or token)"},
		{`adx_upload(` + q + `, cluster_url='https://c', database='velo', token='t', secret='nope')`, `adx_upload: secret: no server_metadata() entry "nope"`},
	}
	for _, tc := range cases {
		rows, logs := e.query(`SELECT * FROM ` + tc.text)
		if len(rows) != 0 || len(logs) == 0 || !strings.Contains(logs[0], tc.want) {
			t.Errorf("%s:\n rows %v\n logs %v\n want %q", tc.text, rows, logs, tc.want)
		}
	}
}

// TestLogScaleStatsAndDebug: stats_interval logs the counts while the
// forwarder runs; debug logs each batch.
func TestLogScaleStatsAndDebug(t *testing.T) {
	e := newEnv(t)
	ls := &logscaleServer{token: "ingest-1"}
	srv := newSinkServer(t, ls)
	srv.up()
	e.send(0, 3, nil)
	r := e.start(owner, `SELECT * FROM logscale_upload(query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='ls', start_time=0)},
		apibaseurl='`+srv.url()+`/api', ingest_token='ingest-1', batching_timeout_ms=20, stats_interval=1, debug=TRUE)`)
	waitFor(t, "the counts logged", r, func() bool {
		return strings.Contains(r.log(), "INFO:logscale_upload: 3 forwarded, 0 retries, 0 dead letters")
	})
	_, logs := r.stop()
	if log := strings.Join(logs, "\n"); !strings.Contains(log, "DEBUG:logscale_upload: 3 documents delivered") {
		t.Errorf("no batch in the debug log:\n%s", log)
	}
}
