package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bulkIndex is the smallest Elasticsearch bulk API a forwarder needs: it
// stores each document under its index and id and answers every item
// 201. No Elasticsearch can run here; this real HTTP server on loopback
// speaks the protocol (NDJSON action and source lines, per-item status).
type bulkIndex struct {
	mu     sync.Mutex
	docs   map[string]float64 // id -> the document's i
	writes int                // index operations, resends included
}

func (b *bulkIndex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var items []string
	for sc.Scan() {
		var action map[string]struct {
			ID string `json:"_id"`
		}
		if json.Unmarshal(sc.Bytes(), &action) != nil || !sc.Scan() {
			http.Error(w, `{"error":"malformed bulk body"}`, http.StatusBadRequest)
			return
		}
		var doc struct{ I float64 }
		json.Unmarshal(sc.Bytes(), &doc)
		id := action["index"].ID
		b.mu.Lock()
		b.docs[id] = doc.I
		b.writes++
		b.mu.Unlock()
		items = append(items, fmt.Sprintf(`{"index":{"_id":%q,"status":201}}`, id))
	}
	// A slow answer, so that kills land while a batch is out.
	time.Sleep(time.Millisecond)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
}

func (b *bulkIndex) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.docs)
}

// TestForwarderLosesNothingUnderKill runs elastic_upload() on a named
// consumer as `vqlq query`, kills it with SIGKILL at random moments
// (during a bulk request, between an answer and its acknowledgement),
// and restarts it. After each kill the consumer's position is checked
// against the index: every event up to it is indexed. In the end the
// index holds every event once, under <queue>:<seq>; a batch sent again
// after a kill overwrote its own documents.
func TestForwarderLosesNothingUnderKill(t *testing.T) {
	const events, kills = 2000, 4
	e := newQueueEnv(t)
	if r := runVQLQ(t, "", e.args(fmt.Sprintf(`SELECT count() AS n FROM range(end=%d) WHERE send_event(artifact='Server.Events.Receive', row=dict(i=_value)) GROUP BY 1`, events))...); r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	index := &bulkIndex{docs: map[string]float64{}}
	srv := httptest.NewServer(index)
	defer srv.Close()
	// limit, when set, ends the query by itself after that many events.
	forward := func(limit string) string {
		return `SELECT * FROM elastic_upload(addresses=['` + srv.URL + `'], index='events', chunk_size=50, wait_time=0.05, retry_wait=0.01,
		query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='es', start_time=0)` + limit + `})`
	}
	start := func(limit string) (*exec.Cmd, chan struct{}) {
		cmd := exec.Command(vqlqBin, e.args(forward(limit))...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		return cmd, exited
	}
	// waitIndexed waits for n documents; the bound only keeps a broken
	// forwarder from hanging the test.
	waitIndexed := func(exited chan struct{}, n int) bool {
		deadline := time.Now().Add(2 * time.Minute)
		for index.count() < n {
			if time.Now().After(deadline) {
				return false
			}
			select {
			case <-exited:
				return false
			case <-time.After(time.Millisecond):
			}
		}
		return true
	}
	position := func() int {
		r := runVQLQ(t, "", e.args(`SELECT position FROM consumers() WHERE name = 'es'`)...)
		var row struct{ Position int }
		if r.code != 0 || json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &row) != nil {
			t.Fatalf("consumers(): %+v", r)
		}
		return row.Position
	}
	for k := range kills {
		cmd, exited := start("")
		target := min(events, index.count()+1+rand.IntN(events/(kills+2)))
		if !waitIndexed(exited, target) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("run %d stopped indexing at %d of %d", k, index.count(), target)
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		pos := position()
		index.mu.Lock()
		for seq := 1; seq <= pos; seq++ {
			if _, ok := index.docs["Server.Events.Receive:"+strconv.Itoa(seq)]; !ok {
				t.Errorf("kill %d: the consumer is at %d, but event %d is not indexed", k, pos, seq)
				break
			}
		}
		index.mu.Unlock()
	}
	// The last run reads what is left and ends by itself, acknowledging
	// its last batch.
	cmd, exited := start(fmt.Sprintf(" LIMIT %d", events-position()))
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("the last run did not end: %d indexed", index.count())
	}
	if pos := position(); pos != events {
		t.Errorf("final position %d, want %d", pos, events)
	}
	index.mu.Lock()
	defer index.mu.Unlock()
	if len(index.docs) != events {
		t.Errorf("%d documents indexed, want %d", len(index.docs), events)
	}
	for seq := 1; seq <= events; seq++ {
		if i, ok := index.docs["Server.Events.Receive:"+strconv.Itoa(seq)]; !ok || i != float64(seq-1) {
			t.Errorf("event %d: indexed %v (%v)", seq, i, ok)
			break
		}
	}
	t.Logf("%d events, %d kills: %d index operations for %d documents (%d resent after a kill)", events, kills, index.writes, len(index.docs), index.writes-len(index.docs))
}

// TestServeMonitoringForwardsToElastic: elastic_upload() as the source of
// a monitoring artifact, the way a server forwards for good: it indexes
// every event of its consumer, consumers() shows it at work, and after a
// restart of the server (SIGTERM, then serve again: the monitoring table
// is in the data folder) it goes on from where it was, each event
// indexed once.
func TestServeMonitoringForwardsToElastic(t *testing.T) {
	index := &bulkIndex{docs: map[string]float64{}}
	srv := httptest.NewServer(index)
	defer srv.Close()
	forward := `name: Custom.Forward.Elastic
type: SERVER_EVENT
parameters:
  - name: ElasticAddresses
    default: ` + srv.URL + `
sources:
  - query: |
      SELECT * FROM elastic_upload(addresses=split(string=ElasticAddresses, sep=','), index='events', wait_time=0.05,
        query={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='to-elastic', start_time=0)})
`
	p := startServe(t, map[string]string{"r.yaml": receiveDef, "f.yaml": forward}, "--monitor", "Custom.Forward.Elastic")
	send := func(p *serveProc, from, n int) {
		r := runVQLQ(t, "", "query", "--data-dir", p.data, fmt.Sprintf(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) FROM range(start=%d, end=%d)`, from, from+n))
		if r.code != 0 {
			t.Fatalf("send: %+v", r)
		}
	}
	// waitFor polls; the bound only keeps a broken forwarder from hanging
	// the test.
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (%d indexed)", what, index.count())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	consumer := func(p *serveProc) string {
		r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", `SELECT position, lag, forwarder, forwarded, dead_letters FROM consumers() WHERE name = 'to-elastic'`)
		return strings.TrimSpace(r.stdout)
	}
	send(p, 0, 30)
	waitFor("30 indexed", func() bool { return index.count() == 30 })
	want := `{"position":30,"lag":0,"forwarder":"elastic_upload ` + srv.URL + `","forwarded":30,"dead_letters":0}`
	waitFor("the consumer at 30", func() bool { return consumer(p) == want })
	p.stop(t)

	q := relaunch(t, p)
	send(q, 30, 10)
	waitFor("40 indexed", func() bool { return index.count() == 40 })
	want = `{"position":40,"lag":0,"forwarder":"elastic_upload ` + srv.URL + `","forwarded":10,"dead_letters":0}`
	waitFor("the consumer at 40", func() bool { return consumer(q) == want })
	q.stop(t)
	index.mu.Lock()
	defer index.mu.Unlock()
	if index.writes != 40 {
		t.Errorf("%d index operations for 40 events", index.writes)
	}
	for seq := 1; seq <= 40; seq++ {
		if i, ok := index.docs["Server.Events.Receive:"+strconv.Itoa(seq)]; !ok || i != float64(seq-1) {
			t.Errorf("event %d: indexed %v (%v)", seq, i, ok)
		}
	}
}
