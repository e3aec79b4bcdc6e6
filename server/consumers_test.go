package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
)

// sseEvents reads n Server-Sent Events of a watch, then disconnects; it
// returns each event's id and data.
func (e *apiEnv) sseEvents(query string, n int, header ...string) (ids, data []string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+send+"?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("watch %s: %d", query, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for len(data) < n && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			ids = append(ids, v)
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			data = append(data, v)
		}
	}
	return ids, data
}

// TestHTTPConsumerMovesOnlyWhenAcknowledged: SSE events of a named
// consumer carry id: <seq>; reading does not move the consumer,
// Last-Event-ID and the ack endpoint do; consumers are listed and can be
// deleted by their owner.
func TestHTTPConsumerMovesOnlyWhenAcknowledged(t *testing.T) {
	e := newAPIEnv(t, 0)
	// Attaching records the consumer where it joins: before any event.
	if ids, _ := e.sseEvents("consumer=fwd", 0); len(ids) != 0 {
		t.Fatal(ids)
	}
	for i := 0; i < 5; i++ {
		if status, body := e.do("POST", send, "pub", `{"n":`+string(rune('0'+i))+`}`); status != 200 {
			t.Fatal(status, body)
		}
	}
	ids, data := e.sseEvents("consumer=fwd", 3)
	if strings.Join(ids, ",") != "1,2,3" || !strings.Contains(data[0], `"_seq":1`) || !strings.Contains(data[0], `"n":0`) {
		t.Fatalf("first read: %v %v", ids, data)
	}
	if ids, _ := e.sseEvents("consumer=fwd", 1); strings.Join(ids, ",") != "1" {
		t.Fatalf("unacknowledged reads moved the consumer: %v", ids)
	}
	if ids, _ := e.sseEvents("consumer=fwd", 1, "Last-Event-ID", "2"); strings.Join(ids, ",") != "3" {
		t.Fatalf("Last-Event-ID 2 resumed at %v", ids)
	}
	if status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/consumers/Server.Events.Receive/fwd/ack", "reader", `{"seq":4}`); status != 200 || !strings.Contains(body, `"position":4`) {
		t.Fatalf("ack: %d %s", status, body)
	}
	for _, bad := range []struct {
		path, body string
		status     int
	}{
		{"/api/v1/orgs/" + rootOrg + "/consumers/Server.Events.Receive/fwd/ack", `{"seq":99}`, 400},
		{"/api/v1/orgs/" + rootOrg + "/consumers/Server.Events.Receive/fwd/ack", `{}`, 400},
		{"/api/v1/orgs/" + rootOrg + "/consumers/Server.Events.Receive/nobody/ack", `{"seq":1}`, 404},
		{"/api/v1/orgs/" + rootOrg + "/consumers/Server.Events.Nope/fwd/ack", `{"seq":1}`, 404},
		{"/api/v1/orgs/" + rootOrg + "/consumers/fwd/ack", `{"seq":1}`, 404},
	} {
		if status, body := e.do("POST", bad.path, "reader", bad.body); status != bad.status {
			t.Errorf("POST %s %s: %d %s, want %d", bad.path, bad.body, status, body, bad.status)
		}
	}
	if status, _ := e.do("POST", "/api/v1/orgs/"+rootOrg+"/consumers/Server.Events.Receive/fwd/ack", "pub", `{"seq":5}`); status != 403 {
		t.Errorf("a publisher acknowledged: %d", status)
	}
	status, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/consumers", "reader", "")
	var list []struct {
		Queue, Name, Owner string
		Position, Lag      uint64
		LastAck            *time.Time `json:"last_ack"`
	}
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil || len(list) != 1 {
		t.Fatalf("consumers: %d %s %v", status, body, err)
	}
	if c := list[0]; c.Queue != "Server.Events.Receive" || c.Name != "fwd" || c.Owner != "reader" || c.Position != 4 || c.Lag != 1 || c.LastAck == nil {
		t.Errorf("consumer listed as %+v", c)
	}
	if ids, _ := e.sseEvents("consumer=fwd", 1); strings.Join(ids, ",") != "5" {
		t.Fatalf("after ack 4, resumed at %v", ids)
	}
	// (NDJSON rows and after=: TestConsumersBelongToTheirPrincipal.)
	if status, body := e.do("DELETE", "/api/v1/orgs/"+rootOrg+"/consumers/Server.Events.Receive/fwd", "admin", ""); status != 200 {
		t.Fatalf("admin's delete: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/consumers", "reader", ""); status != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("after delete: %d %s", status, body)
	}
	if status, _ := e.do("DELETE", "/api/v1/orgs/"+rootOrg+"/consumers/Server.Events.Receive/fwd", "admin", ""); status != 404 {
		t.Errorf("deleting a deleted consumer: %d", status)
	}
	if status, body := e.do("GET", send+"?after=3", "reader", ""); status != 400 || !strings.Contains(body, "only a named consumer") {
		t.Errorf("after= without a consumer: %d %s", status, body)
	}
}

// HTTP watchers write each event's stored JSON as it is; a named
// consumer's rows get _seq as their last column, replacing a column of
// that name that a row sent by the server itself carried, as a VQL
// watcher's rows do.
func TestHTTPWatchWritesStoredRows(t *testing.T) {
	e := newAPIEnv(t, 0)
	if ids, _ := e.sseEvents("consumer=raw", 0); len(ids) != 0 {
		t.Fatal(ids)
	}
	for _, row := range []string{`{"n":1,"s":"a \"_seq\" in a string"}`, `{}`, `{"_seq":"mine","n":3}`} {
		if status, body := e.do("POST", send, "pub", row); status != 200 {
			t.Fatal(status, body)
		}
	}
	if _, err := e.m.Send(context.Background(), rootOrg, "Server.Events.Receive", ordereddict.NewDict().Set("_seq", "mine").Set("n", 4), queues.ServerSender); err != nil {
		t.Fatal(err)
	}
	ids, data := e.sseEvents("consumer=raw", 4)
	want := []string{
		`{"n":1,"s":"a \"_seq\" in a string","_ts":%,"_Source":"pub","_seq":1}`,
		`{"_ts":%,"_Source":"pub","_seq":2}`,
		`{"n":3,"_ts":%,"_Source":"pub","_seq":3}`,
		`{"n":4,"_ts":%,"_Source":"server","_seq":4}`,
	}
	if strings.Join(ids, ",") != "1,2,3,4" || len(data) != 4 {
		t.Fatalf("ids %v, data %v", ids, data)
	}
	for i, w := range want {
		before, after, _ := strings.Cut(w, "%")
		ts := strings.TrimSuffix(strings.TrimPrefix(data[i], before), after)
		if !strings.HasPrefix(data[i], before) || !strings.HasSuffix(data[i], after) || strings.Trim(ts, "0123456789") != "" {
			t.Errorf("event %d: %s, want %s", i+1, data[i], w)
		}
	}
}
