package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
)

// serveProc is a running `vqlq serve`.
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	data   string
	defs   string
	stderr *syncBuffer // what it printed on stderr (also passed to the test's)
}

// syncBuffer is a bytes.Buffer that a process's output can be copied into
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServe(t *testing.T, defs map[string]string, extra ...string) *serveProc {
	p := &serveProc{data: filepath.Join(t.TempDir(), "data"), defs: t.TempDir(), stderr: &syncBuffer{}}
	for name, text := range defs {
		os.WriteFile(filepath.Join(p.defs, name), []byte(text), 0o644)
	}
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", p.data, "--definitions", p.defs}, extra...)
	p.cmd = exec.Command(vqlqBin, args...)
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = io.MultiWriter(os.Stderr, p.stderr)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve did not start: %v", err)
	}
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		t.Fatalf("serve said %q", line)
	}
	p.url = strings.Fields(rest)[0]
	go io.Copy(io.Discard, stdout)
	return p
}

// socketClient talks to the server through its data folder's socket, as
// the folder's owner.
func (p *serveProc) socketClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", filepath.Join(p.data, runner.SocketFile))
	}}}
}

func (p *serveProc) token(t *testing.T, args ...string) string {
	r := runVQLQ(t, "", append([]string{"token", "create", "--data-dir", p.data}, args...)...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vqlq_") {
		t.Fatalf("token create: %+v", r)
	}
	return strings.TrimSpace(r.stdout)
}

func post(url, token, body string) (int, string, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// rootOrg is the default org, by name.
const rootOrg = queues.DefaultOrg

const receiveDef = "name: Server.Events.Receive\ntype: SERVER_EVENT\n"

// Two terminals on one data folder: while the server owns it, vqlq
// commands attach to it; the API and the attached commands see one store.
func TestServeAndAttach(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	tok := p.token(t, "--name", "pub", "--role", "publisher", "--queue", "Server.Events.Receive")
	status, body, err := post(p.url+"/api/v1/orgs/"+rootOrg+"/events/Server.Events.Receive", tok, `{"src":"api"}`)
	if err != nil || status != 200 || !strings.Contains(body, `"_Source":"pub"`) {
		t.Fatalf("%d %s %v", status, body, err)
	}
	// A watcher in one process, a sender in another.
	watch := exec.Command(vqlqBin, "query", "--data-dir", p.data, "--format", "jsonl",
		"SELECT src FROM watch_monitoring(artifact='Server.Events.Receive') LIMIT 1")
	var out bytes.Buffer
	watch.Stdout = &out
	watch.Start()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT watchers FROM queues() WHERE name = 'Server.Events.Receive'")
		if r.stdout == "{\"watchers\":1}\n" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := runVQLQ(t, "", "query", "--data-dir", p.data, "SELECT send_event(artifact='Server.Events.Receive', row=dict(src='terminal 2')) FROM scope()")
	if r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	done := make(chan error, 1)
	go func() { done <- watch.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		watch.Process.Kill()
		t.Fatal("watcher never got the event")
	}
	if out.String() != "{\"src\":\"terminal 2\"}\n" {
		t.Errorf("watcher printed %q", out.String())
	}
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT src, _Source FROM source(artifact='Server.Events.Receive')")
	if r.stdout != "{\"src\":\"api\",\"_Source\":\"pub\"}\n{\"src\":\"terminal 2\",\"_Source\":\"server\"}\n" {
		t.Errorf("stored: %+v", r)
	}
	// Attached, a program is checked here, with its own positions, and
	// the LETs it sent to the server-side session count.
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "LET F(x) = x + 1\nSELECT F(x=1) AS y FROM scope()")
	if r.code != 0 || r.stdout != "{\"y\":2}\n" {
		t.Errorf("attached LET function: %+v", r)
	}
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "SELECT 1 AS a FROM scope()\nSELECT * FROM rnage(end=1)")
	if want := "2:15: unknown plugin rnage (did you mean range?)\nSELECT * FROM rnage(end=1)\n              ^\n"; r.code != 2 || r.stdout != "" || r.stderr != want {
		t.Errorf("attached check: %+v\nwant stderr %q", r, want)
	}
}

// A monitoring artifact forwards every alert to a webhook with
// http_client(): the README's example, end to end.
func TestServeMonitoringForwardsAlerts(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	forward := fmt.Sprintf(`name: Custom.Alerts.Forward
type: SERVER_EVENT
parameters:
  - name: Webhook
    default: %s/hook
sources:
  - query: |
      SELECT name, http_client(url=Webhook, method='POST',
                               data=dict(text=format(format='vqlq alert: %%v', args=name), event_data=event_data, artifact=artifact)).Response AS Status
      FROM watch_monitoring(artifact='Server.Internal.Alerts')
`, hook.URL)
	p := startServe(t, map[string]string{"f.yaml": forward}, "--monitor", "Custom.Alerts.Forward")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT watchers FROM queues() WHERE name = 'Server.Internal.Alerts'")
		if r.stdout == "{\"watchers\":1}\n" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := runVQLQ(t, "", "query", "--data-dir", p.data, "SELECT alert(name='Disk full', dedup=-1, host='web-1') FROM scope()")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for time.Now().Before(deadline.Add(10 * time.Second)) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != `{"text":"vqlq alert: Disk full","event_data":{"host":"web-1"},"artifact":""}` {
		t.Fatalf("webhook got %q", got)
	}
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT artifact, state FROM foreach(row=get_server_monitoring())")
	if r.stdout != "{\"artifact\":\"Custom.Alerts.Forward\",\"state\":\"running\"}\n" {
		t.Errorf("monitoring table: %+v", r)
	}
	// The forwarding query's own rows land in its queue.
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT name, Status FROM source(artifact='Custom.Alerts.Forward')")
	if r.stdout != "{\"name\":\"Disk full\",\"Status\":200}\n" {
		t.Errorf("forward log: %+v", r)
	}
}

// SIGTERM while publishers send: every acknowledged event is stored, once.
func TestServeShutdownLosesNothingAcknowledged(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	tok := p.token(t, "--name", "admin", "--role", "admin")
	url := p.url + "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive"
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%d-%d", w, i)
				status, _, err := post(url, tok, `{"id":"`+id+`"}`)
				if err != nil || status != 200 {
					return // refused (shutting down) or connection closed: not acknowledged
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- p.cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("serve exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	close(stop)
	wg.Wait()
	r := runVQLQ(t, "", "query", "--data-dir", p.data, "--definitions", p.defs, "--format", "jsonl", "SELECT id FROM source(artifact='Server.Events.Receive')")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row struct{ ID string }
		json.Unmarshal([]byte(line), &row)
		seen[row.ID]++
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged event %s stored %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
	t.Logf("%d events acknowledged before and during shutdown, %d stored", len(acked), len(seen))
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.3.4.5": true, "::1": true,
		"0.0.0.0": false, "::": false, "192.0.2.1": false, "2001:db8::1": false,
	} {
		if got := isLoopback(&net.TCPAddr{IP: net.ParseIP(addr), Port: 8889}); got != want {
			t.Errorf("isLoopback(%s) = %v", addr, got)
		}
	}
	if got := shownAddr("0.0.0.0:0", &net.TCPAddr{IP: net.IPv6unspecified, Port: 4242}); got != "0.0.0.0:4242" {
		t.Errorf("shownAddr = %q", got)
	}
}
