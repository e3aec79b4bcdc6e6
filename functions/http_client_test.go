package functions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/functions"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// echoed is what the test server's /echo reports about a request.
type echoed struct {
	Method      string `json:"method"`
	Query       string `json:"query"`
	XTest       string `json:"x_test"`
	UserAgent   string `json:"user_agent"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// httpBig is served by /big: one byte more than http_client keeps.
const httpBig = 10<<20 + 1

func newHTTPTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Reply", "first")
		w.Header().Add("X-Reply", "second")
		_ = json.NewEncoder(w).Encode(echoed{
			Method:      r.Method,
			Query:       r.URL.RawQuery,
			XTest:       r.Header.Get("X-Test"),
			UserAgent:   r.Header.Get("User-Agent"),
			ContentType: r.Header.Get("Content-Type"),
			Body:        string(body),
		})
	})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", httpBig)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// runHTTPQuery runs query with the variables vars and returns its rows as
// JSON and the log messages.
func runHTTPQuery(t *testing.T, ctx context.Context, vars map[string]any, query string) (string, []vql.Message) {
	t.Helper()
	rows, logs, err := runHTTP(ctx, vars, query)
	if err != nil {
		t.Fatalf("%q: %v", query, err)
	}
	return rows, logs
}

// runHTTP is runHTTPQuery for any goroutine.
func runHTTP(ctx context.Context, vars map[string]any, query string) (string, []vql.Message, error) {
	prog, err := parser.Parse(query, "")
	if err != nil {
		return "", nil, err
	}
	e := vqlq.NewEngine()
	for k, v := range vars {
		e.SetVar(k, v)
	}
	var mu sync.Mutex
	var logs []vql.Message
	s := e.NewSession(vql.SessionOptions{Identity: vql.Identity{Granted: []vql.Permission{vql.PermNetwork}}, OnLog: func(m vql.Message) {
		mu.Lock()
		logs = append(logs, m)
		mu.Unlock()
	}})
	rows := []any{}
	for r := range s.Run(ctx, prog) {
		rows = append(rows, r.Row)
	}
	b, err := value.EncodeJSON(rows)
	if err != nil {
		return "", nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	return string(b), append([]vql.Message(nil), logs...), nil
}

func echoJSON(e echoed) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e)
	return strings.TrimSpace(b.String())
}

func TestHTTPClient(t *testing.T) {
	srv := newHTTPTestServer(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	vars := map[string]any{"URL": srv.URL, "DEAD": deadURL}

	tests := []struct {
		name  string
		query string
		want  string
		// wantLog is "LEVEL:" and a text the log must hold; empty means
		// nothing at WARN or ERROR may be logged.
		wantLog []string
	}{
		{
			name:  "GET with params and headers",
			query: "SELECT parse_json(data=http_client(url=URL + '/echo?x=0', params=dict(a='1', b=['2', 'three 3']), headers=dict(`X-Test`='yes')).Content) AS e FROM scope()",
			want:  `[{"e":` + echoJSON(echoed{Method: "GET", Query: "x=0&a=1&b=2&b=three+3", XTest: "yes", UserAgent: "vqlq"}) + `}]`,
		},
		{
			name:  "user agent and lower-case method",
			query: "SELECT parse_json(data=http_client(url=URL + '/echo', method='get', user_agent='agent/1').Content) AS e FROM scope()",
			want:  `[{"e":` + echoJSON(echoed{Method: "GET", UserAgent: "agent/1"}) + `}]`,
		},
		{
			name:  "response fields",
			query: "SELECT Url, Method, Response, Headers.`X-Reply` AS reply, Headers.`Content-Type` AS ct FROM foreach(row=http_client(url=URL + '/echo', params=dict(q='a&b')))",
			want:  `[{"Url":"` + srv.URL + `/echo?q=a%26b","Method":"GET","Response":200,"reply":"first","ct":"application/json"}]`,
		},
		{
			name:  "the plugin form: its one row is the response",
			query: "SELECT Url, Method, Response, Content FROM http_client(url=URL + '/teapot', params=dict(q='1'))",
			want:  `[{"Url":"` + srv.URL + `/teapot?q=1","Method":"GET","Response":418,"Content":"short and stout"}]`,
		},
		{
			name:    "the plugin form: a failed request is the row",
			query:   "SELECT Response, Error =~ 'connection refused' AS refused FROM http_client(url=DEAD)",
			want:    `[{"Response":0,"refused":true}]`,
			wantLog: []string{"ERROR:http_client: GET " + deadURL + ": ", "connection refused"},
		},
		{
			name:    "the plugin form: url is required",
			query:   "SELECT * FROM http_client(method='GET')",
			want:    `[]`,
			wantLog: []string{"ERROR:http_client: Field url is required"},
		},
		{
			name:  "POST with a dict body is sent as JSON",
			query: "SELECT parse_json(data=http_client(url=URL + '/echo', method='POST', data=dict(k='v', n=1, l=[1, 2])).Content) AS e FROM scope()",
			want:  `[{"e":` + echoJSON(echoed{Method: "POST", UserAgent: "vqlq", ContentType: "application/json", Body: `{"k":"v","n":1,"l":[1,2]}`}) + `}]`,
		},
		{
			name:  "a content type in headers wins",
			query: "SELECT parse_json(data=http_client(url=URL + '/echo', method='PUT', data=[1, 'a'], headers=dict(`Content-Type`='application/x-test')).Content) AS e FROM scope()",
			want:  `[{"e":` + echoJSON(echoed{Method: "PUT", UserAgent: "vqlq", ContentType: "application/x-test", Body: `[1,"a"]`}) + `}]`,
		},
		{
			name:  "POST with a string body",
			query: "SELECT parse_json(data=http_client(url=URL + '/echo', method='POST', data='a=1&b=2', headers=dict(`Content-Type`='application/x-www-form-urlencoded')).Content) AS e FROM scope()",
			want:  `[{"e":` + echoJSON(echoed{Method: "POST", UserAgent: "vqlq", ContentType: "application/x-www-form-urlencoded", Body: "a=1&b=2"}) + `}]`,
		},
		{
			name:  "a string body has no content type of its own",
			query: "SELECT parse_json(data=http_client(url=URL + '/echo', method='PATCH', data='plain text').Content) AS e FROM scope()",
			want:  `[{"e":` + echoJSON(echoed{Method: "PATCH", UserAgent: "vqlq", Body: "plain text"}) + `}]`,
		},
		{
			name:  "non-2xx status is returned, not an error",
			query: "SELECT Response, Content FROM foreach(row=http_client(url=URL + '/teapot'))",
			want:  `[{"Response":418,"Content":"short and stout"}]`,
		},
		{
			name:  "HEAD has no content",
			query: "SELECT Method, Response, Content FROM foreach(row=http_client(url=URL + '/echo', method='head'))",
			want:  `[{"Method":"HEAD","Response":200,"Content":""}]`,
		},
		{
			name:    "connection refused",
			query:   "SELECT Response, Content, Error =~ 'connection refused' AS refused FROM foreach(row=http_client(url=DEAD))",
			want:    `[{"Response":0,"Content":"","refused":true}]`,
			wantLog: []string{"ERROR:http_client: GET " + deadURL + ": ", "connection refused"},
		},
		{
			name:    "timeout",
			query:   "SELECT Response, Error FROM foreach(row=http_client(url=URL + '/sleep', timeout=0.2))",
			want:    `[{"Response":0,"Error":"timed out after 200ms"}]`,
			wantLog: []string{"ERROR:http_client: GET " + srv.URL + "/sleep: timed out after 200ms"},
		},
		{
			name:    "invalid method",
			query:   "SELECT Response, Error =~ 'invalid method' AS bad FROM foreach(row=http_client(url=URL, method='BREW'))",
			want:    `[{"Response":0,"bad":true}]`,
			wantLog: []string{"ERROR:http_client: BREW " + srv.URL + ": invalid method"},
		},
		{
			name:    "bad URL scheme",
			query:   "SELECT Response, Error FROM foreach(row=http_client(url='ftp://example.invalid/x'))",
			want:    `[{"Response":0,"Error":"bad URL: want http:// or https:// and a host"}]`,
			wantLog: []string{"ERROR:http_client: GET ftp://example.invalid/x: bad URL"},
		},
		{
			name:    "unparsable URL",
			query:   "SELECT Response, Error =~ '^bad URL' AS bad FROM foreach(row=http_client(url='http://[::1'))",
			want:    `[{"Response":0,"bad":true}]`,
			wantLog: []string{"ERROR:http_client: GET http://[::1: bad URL"},
		},
		{
			name:    "headers must be a dict",
			query:   "SELECT Error FROM foreach(row=http_client(url=URL, headers='x'))",
			want:    `[{"Error":"headers should be a dict"}]`,
			wantLog: []string{"ERROR:http_client: GET " + srv.URL + ": headers should be a dict"},
		},
		{
			name:    "url is required",
			query:   "SELECT http_client(method='GET') AS r FROM scope()",
			want:    `[{"r":null}]`,
			wantLog: []string{"ERROR:http_client: Field url is required"},
		},
		{
			name:    "body over the cap is cut",
			query:   "SELECT Response, len(list=Content) AS n FROM foreach(row=http_client(url=URL + '/big'))",
			want:    `[{"Response":200,"n":10485760}]`,
			wantLog: []string{"WARN:http_client: GET " + srv.URL + "/big: response body is larger than 10485760 bytes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			got, logs := runHTTPQuery(t, ctx, vars, tt.query)
			if got != tt.want {
				t.Errorf("rows:\n got %s\nwant %s", got, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("query took %v", d)
			}
			var bad []string
			for _, m := range logs {
				if m.Level == vql.LevelWarn || m.Level == vql.LevelError {
					bad = append(bad, m.String())
				}
			}
			if len(tt.wantLog) == 0 {
				if len(bad) > 0 {
					t.Errorf("unexpected log: %q", bad)
				}
				return
			}
			found := false
			for _, line := range bad {
				ok := true
				for _, part := range tt.wantLog {
					ok = ok && strings.Contains(line, part)
				}
				found = found || ok
			}
			if !found {
				t.Errorf("no log line with %q in %q", tt.wantLog, bad)
			}
		})
	}
}

// TestHTTPClientCancel checks that cancelling the query stops a request
// that is waiting for its response.
func TestHTTPClientCancel(t *testing.T) {
	started := make(chan struct{})
	stopped := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(stopped)
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		rows string
		logs []vql.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		rows, logs, err := runHTTP(ctx, map[string]any{"URL": srv.URL},
			"SELECT http_client(url=URL, timeout=60).Error AS e FROM scope()")
		done <- result{rows, logs, err}
	}()

	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the server")
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not see the request cancelled")
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.rows != `[]` && r.rows != `[{"e":"query cancelled"}]` {
			t.Errorf("rows = %s", r.rows)
		}
		for _, m := range r.logs {
			if m.Level == vql.LevelError && strings.Contains(m.Text, "http_client") {
				t.Errorf("a cancelled query logged %q", m.String())
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the query did not return after cancellation")
	}
}

// TestHTTPClientDirect calls the function without a query, as a host
// program may, and checks the declared arguments all carry help text.
func TestHTTPClientDirect(t *testing.T) {
	srv := newHTTPTestServer(t)
	f := functions.HTTPClient
	registered := false
	for _, info := range vqlq.NewEngine().Functions() {
		registered = registered || info.Name == "http_client"
	}
	if !registered {
		t.Error("http_client is not registered by vqlq.NewEngine")
	}
	for _, a := range f.Info().Args {
		if a.Doc == "" {
			t.Errorf("argument %s has no doc", a.Name)
		}
	}
	scope := vqlq.NewEngine().NewSession(vql.SessionOptions{}).Scope()
	args := vql.NewArgs(scope, ordereddict.NewDict().Set("url", srv.URL+"/teapot").Set("method", "DELETE"))
	got, ok := f.Call(context.Background(), scope, args).(*ordereddict.Dict)
	if !ok {
		t.Fatalf("result is %T, want a dict", got)
	}
	if r, _ := got.Get("Response"); r != int64(http.StatusTeapot) {
		t.Errorf("Response = %#v", r)
	}
	if m, _ := got.Get("Method"); m != "DELETE" {
		t.Errorf("Method = %#v", m)
	}
	if e, ok := got.Get("Error"); ok {
		t.Errorf("a request that got a response has Error %#v", e)
	}
}

// A session without NETWORK makes no request: the server never sees one.
func TestHTTPClientNeedsNetwork(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	var logs []string
	s := vqlq.NewEngine().NewSession(vql.SessionOptions{OnLog: func(m vql.Message) { logs = append(logs, m.String()) }})
	results, err := s.RunText(context.Background(), "SELECT http_client(url=URL) AS r FROM scope() SELECT * FROM http_client(url=URL)")
	if err != nil {
		t.Fatal(err)
	}
	s.Scope().Set("URL", srv.URL)
	var rows []string
	for r := range results {
		b, _ := json.Marshal(r.Row)
		rows = append(rows, string(b))
	}
	if hits.Load() != 0 || len(rows) != 1 || rows[0] != `{"r":null}` ||
		len(logs) != 2 || logs[0] != "ERROR:http_client: permission denied: this session lacks NETWORK" || logs[1] != logs[0] {
		t.Errorf("hits %d, rows %v, logs %v", hits.Load(), rows, logs)
	}
}

// TestHTTPClientSelfSigned: an https server with a certificate no
// authority signed is refused unless disable_ssl_security is set.
func TestHTTPClientSelfSigned(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("secret")) }))
	defer srv.Close()
	vars := map[string]any{"URL": srv.URL}
	for _, c := range []struct {
		name, query, want, log string
	}{
		{"checked by default", "SELECT Response, Error =~ 'certificate' AS cert FROM http_client(url=URL)", `[{"Response":0,"cert":true}]`, "certificate"},
		{"accepted when told", "SELECT Response, Content FROM http_client(url=URL, disable_ssl_security=true)", `[{"Response":200,"Content":"secret"}]`, ""},
		{"the function too", "SELECT http_client(url=URL, disable_ssl_security=true).Content AS c FROM scope()", `[{"c":"secret"}]`, ""},
	} {
		rows, logs := runHTTPQuery(t, context.Background(), vars, c.query)
		if rows != c.want {
			t.Errorf("%s: %s, want %s", c.name, rows, c.want)
		}
		if c.log == "" && len(logs) != 0 || c.log != "" && (len(logs) != 1 || !strings.Contains(logs[0].Text, c.log)) {
			t.Errorf("%s: logs %v", c.name, logs)
		}
	}
}
