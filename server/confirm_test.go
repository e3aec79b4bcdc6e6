package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// consumerPosition reads the position of the consumer `name` from the
// consumers listing.
func (e *apiEnv) consumerPosition(name string) uint64 {
	e.t.Helper()
	status, body := e.do("GET", "/api/v1/orgs/"+rootOrg+"/consumers", "reader", "")
	var list []struct {
		Name     string
		Position uint64
	}
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil {
		e.t.Fatalf("consumers: %d %s %v", status, body, err)
	}
	for _, c := range list {
		if c.Name == name {
			return c.Position
		}
	}
	e.t.Fatalf("no consumer %s in %s", name, body)
	return 0
}

// TestConfirmingQueryAcknowledgesConfirmedRowsOnly: a query that asks for
// confirmations (an attached vqlq) moves its consumer only over rows the
// client confirmed; nobody else can confirm for it; a client that goes
// away unconfirmed leaves the position where it was.
func TestConfirmingQueryAcknowledgesConfirmedRowsOnly(t *testing.T) {
	e := newAPIEnv(t, 0)
	for i := 0; i < 5; i++ {
		if status, body := e.do("POST", send, "pub", fmt.Sprintf(`{"n":%d}`, i)); status != 200 {
			t.Fatal(status, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	q := `{"session":"s1","confirm":true,"query":"SELECT n, _seq FROM watch_monitoring(artifact='Server.Events.Receive', consumer='c', start_time=0)"}`
	req, _ := http.NewRequestWithContext(ctx, "POST", e.http.URL+"/api/v1/orgs/"+rootOrg+"/query", strings.NewReader(q))
	req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	// next reads up to the next confirm message and returns its id, its
	// row count and the rows before it.
	next := func() (id string, rows int64, got []string) {
		t.Helper()
		for sc.Scan() {
			var m struct {
				Type, ID string
				Rows     int64
				Row      json.RawMessage
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(sc.Text(), err)
			}
			switch m.Type {
			case "row":
				got = append(got, string(m.Row))
			case "confirm":
				return m.ID, m.Rows, got
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return
	}
	id, rows, got := next()
	if rows != 1 || len(got) != 1 || !strings.Contains(got[0], `"_seq":1`) {
		t.Fatalf("first confirm asks for %d rows after %v", rows, got)
	}
	if pos := e.consumerPosition("c"); pos != 0 {
		t.Fatalf("the consumer moved to %d before the client confirmed", pos)
	}
	confirm := func(token, session, id string, rows int64) (int, string) {
		return e.do("POST", "/api/v1/orgs/"+rootOrg+"/query/confirm", token, fmt.Sprintf(`{"session":%q,"id":%q,"rows":%d}`, session, id, rows))
	}
	for _, bad := range []struct {
		token, session, id string
		status             int
	}{
		{"admin", "s1", id, 404},  // another token's session of that name
		{"reader", "s2", id, 404}, // another session
		{"reader", "s1", "x", 404},
		{"reader", "", id, 400},
	} {
		if status, body := confirm(bad.token, bad.session, bad.id, 1); status != bad.status {
			t.Errorf("confirm as %s in %q of %q: %d %s, want %d", bad.token, bad.session, bad.id, status, body, bad.status)
		}
	}
	if pos := e.consumerPosition("c"); pos != 0 {
		t.Fatalf("refused confirmations moved the consumer to %d", pos)
	}
	if status, body := confirm("reader", "s1", id, rows); status != 200 {
		t.Fatal(status, body)
	}
	_, rows, got = next()
	if rows != 2 || len(got) != 1 || !strings.Contains(got[0], `"_seq":2`) {
		t.Fatalf("second confirm asks for %d rows after %v", rows, got)
	}
	if pos := e.consumerPosition("c"); pos != 1 {
		t.Fatalf("after confirming 1 row the consumer is at %d", pos)
	}
	// The client goes away without confirming the second row.
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second) // a bound, not an assertion on time
	for {
		// (Confirming 0 rows confirms nothing: a probe for the query.)
		status, body := confirm("reader", "s1", id, 0)
		if status == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the query still runs after its client left: %d %s", status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pos := e.consumerPosition("c"); pos != 1 {
		t.Fatalf("an unconfirmed row was acknowledged: position %d", pos)
	}
}
