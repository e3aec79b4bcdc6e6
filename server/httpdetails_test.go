package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/server"
)

// TestUnknownRoutesAnswerInJSON: a path no endpoint has and a method an
// endpoint does not take get the API's JSON error body, not the mux's
// text.
func TestUnknownRoutesAnswerInJSON(t *testing.T) {
	e := newAPIEnv(t, 0)
	tests := []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{"GET", "/api/v1/nope", 404, `{"error":"no such endpoint: GET /api/v1/nope (the API is under /api/v1/orgs/{org}/…; see the README)","status":404}` + "\n", ""},
		{"PUT", "/api/v1/orgs/" + rootOrg + "/queues", 405, `{"error":"method PUT is not allowed on /api/v1/orgs/` + rootOrg + `/queues (allowed: GET, HEAD)","status":405}` + "\n", "GET, HEAD"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, e.http.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		bufio.NewReader(resp.Body).WriteTo(b)
		resp.Body.Close()
		if resp.StatusCode != tt.status || b.String() != tt.body || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d %q %q allow %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), b.String(), resp.Header.Get("Allow"))
		}
	}
}

// TestErrorJSONIsNotHTMLEscaped: an error quoting the client's query keeps
// its < and & as they are.
func TestErrorJSONIsNotHTMLEscaped(t *testing.T) {
	e := newAPIEnv(t, 0)
	status, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "reader", "SELECT 1 < & FROM scope()")
	if status != 400 || !strings.Contains(body, "SELECT 1 < & FROM scope()") || strings.Contains(body, `\u003c`) {
		t.Errorf("%d %s", status, body)
	}
}

// TestSendBodies: a JSON array of objects is accepted like NDJSON, all or
// nothing; two values on one line are refused saying where.
func TestSendBodies(t *testing.T) {
	e := newAPIEnv(t, 0)
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"array", "[{\"n\":1},\n {\"n\":2}]", 200, `{"n":2,`},
		{"array with a number", `[{"n":3}, 2]`, 400, `"send_event: element 2 of the array (line 1, column 11) must be a dict, not int"`},
		{"array cut short", `[{"n":3}, {"n":`, 400, `element 2 of the array: malformed JSON`},
		{"text after the array", `[{"n":3}] {"n":4}`, 400, `"text after the JSON array at line 1, column 11: send one array, one object, or NDJSON"`},
		{"empty array", `[]`, 400, `"empty array: nothing to send"`},
		{"two objects on a line", "{\"n\":5}\n{\"n\":1}{\"n\":2}", 400, `"row 2: a second JSON value begins at line 2, column 8; send NDJSON (one object a line), one object, or a JSON array"`},
		{"a syntax error", "{\"n\":5}\n\n{\"n\" 6}", 400, `"row 2: malformed JSON at line 3, column 6: invalid character '6' after object key"`},
	}
	for _, tt := range tests {
		status, body := e.do("POST", send, "admin", tt.body)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s", tt.name, status, body)
		}
	}
	// Only the first, valid, array went in.
	if rows := e.stored("root", "Server.Events.Receive"); len(rows) != 2 || !strings.HasPrefix(rows[0], `{"n":1,`) || !strings.HasPrefix(rows[1], `{"n":2,`) {
		t.Errorf("stored %v", rows)
	}
}

// TestIdleSSEStreamsSendKeepAlives: a watch with nothing to say sends a
// comment line at least every keep-alive interval, so that proxies do not
// cut it.
func TestIdleSSEStreamsSendKeepAlives(t *testing.T) {
	e := newAPIEnvWith(t, func(o *server.Options) { o.KeepAlive = 50 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+send, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	comments := 0
	for comments < 2 && sc.Scan() {
		if sc.Text() == ": keepalive" {
			comments++
		} else if sc.Text() != "" {
			t.Fatalf("an idle stream sent %q", sc.Text())
		}
	}
	if comments < 2 {
		t.Fatalf("no keep-alives: %v", sc.Err())
	}
}
