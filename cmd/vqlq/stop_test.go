//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// stopGuard bounds how long a test waits for something that must happen
// promptly: a failure guard, not a timing assertion.
const stopGuard = time.Minute

// longQueries never end by themselves, each in a loop of its own kind:
// a filter that drops every row (nothing reaches the output), GROUP BY
// and ORDER BY that emit only at the end, a nested query per row, stored
// queries, a query read as a list, a sleep, and a LET function that calls
// itself twice at every level.
var longQueries = []struct{ name, query string }{
	{"filter drops every row", "SELECT * FROM range(end=1e12) WHERE _value < 0"},
	{"group by", "SELECT count() FROM range(end=1e12) GROUP BY 1"},
	{"order by limit", "SELECT _value FROM range(end=1e12) ORDER BY _value DESC LIMIT 1"},
	{"foreach", "SELECT * FROM foreach(row={ SELECT * FROM range(end=1e12) }, query={ SELECT * FROM scope() WHERE FALSE })"},
	{"stored query", "LET X = SELECT * FROM range(end=1e12) LET Y = SELECT * FROM X WHERE _value < 0 SELECT * FROM Y"},
	{"query read as a value", "SELECT len(list={ SELECT * FROM range(end=1e12) WHERE _value < 0 }) FROM scope()"},
	{"sleep", "SELECT sleep(time=100000) FROM scope()"},
	{"fanning-out recursion", "LET F(x) = F(x=x) + F(x=x) SELECT F(x=1) FROM scope()"},
}

// SIGTERM stops any query from the command line: the process exits with
// the interrupted status and says so. The query logs "started" first, so
// that the signal comes once the query runs.
func TestSigtermStopsEveryQuery(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tt := range longQueries {
		t.Run(tt.name, func(t *testing.T) { sigtermOnceStarted(t, data, tt.query, func() {}) })
	}
}

// An attached `vqlq query` (a server owns the folder, the query runs
// there) stops as a local one does, and so does the server's query.
func TestSigtermStopsAttachedQuery(t *testing.T) {
	p := startServe(t, nil)
	sigtermOnceStarted(t, p.data, longQueries[0].query, func() { waitRunning(t, p, "1") })
	waitRunning(t, p, "0")
}

// sigtermOnceStarted runs `vqlq query` of query on data, sends SIGTERM
// once it runs (and running has returned) and checks that it exits,
// interrupted.
func sigtermOnceStarted(t *testing.T, data, query string, running func()) {
	t.Helper()
	cmd := exec.Command(vqlqBin, "query", "--data-dir", data, "SELECT log(message='started') FROM scope() "+query)
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && !strings.Contains(lines.Text(), "started") {
	}
	running()
	cmd.Process.Signal(syscall.SIGTERM)
	type exit struct {
		err  error
		said string
	}
	done := make(chan exit, 1)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		done <- exit{cmd.Wait(), b.String()}
	}()
	select {
	case e := <-done:
		if ee, ok := e.err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
			t.Errorf("exit: %v, want status %d", e.err, exitInterrupted)
		}
		if !strings.Contains(e.said, "vqlq: interrupted") {
			t.Errorf("stderr %q, want it to say it was interrupted", e.said)
		}
	case <-time.After(stopGuard):
		t.Fatal("vqlq did not stop after SIGTERM")
	}
}

// pipeFull reports whether the pipe behind r holds about as much as it
// can: its writer is then blocked in write(2).
func pipeFull(t *testing.T, r *os.File) bool {
	size, _, e1 := syscall.Syscall(syscall.SYS_FCNTL, r.Fd(), 1032 /* F_GETPIPE_SZ */, 0)
	var held int32
	_, _, e2 := syscall.Syscall(syscall.SYS_IOCTL, r.Fd(), syscall.TIOCINQ /* FIONREAD */, uintptr(unsafe.Pointer(&held)))
	if e1 != 0 || e2 != 0 {
		t.Fatalf("reading the pipe's fill: %v %v", e1, e2)
	}
	// Less than a page free: the writer's next chunk cannot fit.
	return int(held) > int(size)-4096
}

// blockedInPipeWrite reports whether a thread of process pid sleeps in
// the kernel's pipe write, as /proc/<pid>/task/*/wchan names it. Where
// wchan is hidden (it reads "0"), a full pipe that stays full for a
// while stands in.
func blockedInPipeWrite(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	hidden := true
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil || string(b) == "0" || len(b) == 0 {
			continue
		}
		hidden = false
		if strings.Contains(string(b), "pipe_write") {
			return true
		}
	}
	if hidden {
		time.Sleep(200 * time.Millisecond)
		return true
	}
	return false
}

// A signal stops the command even when nobody reads its output, which
// blocks its writes: it exits, saying why, instead of ignoring the signal.
func TestSigtermStopsQueryWhoseOutputIsNotRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(vqlqBin, "query", "--data-dir", filepath.Join(t.TempDir(), "data"), "--format", "jsonl", "SELECT * FROM range(end=1e12)")
	cmd.Stdout = w
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(stopGuard)
	// A full pipe alone is not enough: the writer may be between two
	// writes, and then the signal ends the statement before it writes
	// again, which is the other (tested above) path.
	for !pipeFull(t, r) || !blockedInPipeWrite(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the output pipe never filled with vqlq blocked writing it")
		}
		sleepBriefly()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
			t.Errorf("exit: %v, want status %d", err, exitInterrupted)
		}
		if !strings.Contains(stderr.String(), "is its output being read?") {
			t.Errorf("stderr %q", stderr.String())
		}
	case <-time.After(stopGuard):
		t.Fatal("vqlq ignored SIGTERM while its output was blocked")
	}
}

// From the command line, a stored query that recurses ends by itself with
// an error naming it; the memory budget stops what holds too many rows,
// and ORDER BY … LIMIT stays within it.
func TestCommandLineBounds(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{"recursive stored query", []string{"LET X = SELECT * FROM X SELECT * FROM X"},
			exitRuntime, "[]\n", "ERROR:Stack overflow: stored query X calls itself (X → X)"},
		{"mutually recursive", []string{"LET A = SELECT * FROM B LET B = SELECT * FROM A SELECT * FROM A"},
			exitRuntime, "[]\n", "stored query A calls itself through B (A → B → A)"},
		{"top k within a small budget", []string{"--max-query-memory", "1MiB", "SELECT _value FROM range(end=1000000) ORDER BY _value DESC LIMIT 2"},
			exitOK, `[{"_value":999999},` + "\n" + `{"_value":999998}]` + "\n", ""},
		{"full sort over it", []string{"--max-query-memory", "1MiB", "SELECT _value FROM range(end=1000000) ORDER BY _value DESC"},
			exitRuntime, "[]\n", "ERROR:query memory budget exceeded: ORDER BY held"},
		{"group by over it", []string{"--max-query-memory", "1MB", "SELECT count() FROM range(end=1000000) GROUP BY _value"},
			exitRuntime, "[]\n", "more than the 1000000B a query may hold"},
		{"no budget", []string{"--max-query-memory", "0", "SELECT count() AS c FROM range(end=30000) GROUP BY _value ORDER BY c LIMIT 1"},
			exitOK, `[{"c":1}]` + "\n", ""},
		{"not a size", []string{"--max-query-memory", "lots", "SELECT 1 FROM scope()"},
			exitUsage, "", `invalid value "lots" for flag -max-query-memory: "lots" is not a size`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"query", "--data-dir", data, "--format", "json"}, tt.args...)
			r := runVQLQ(t, "", args...)
			if r.code != tt.code || r.stdout != tt.stdout || !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("got %d %q, stderr %q; want %d %q, stderr with %q", r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.inStderr)
			}
			if tt.inStderr == "" && r.stderr != "" {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
}

// runningQueries reads vqlq_queries_running from the server's /metrics,
// through the data folder's socket (the owner may read every metric).
func runningQueries(t *testing.T, p *serveProc) string {
	t.Helper()
	resp, err := p.socketClient().Get("http://vqlq/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^vqlq_queries_running (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/metrics has no vqlq_queries_running:\n%s", b)
	}
	return string(m[1])
}

// waitRunning waits until the server runs want queries.
func waitRunning(t *testing.T, p *serveProc, want string) {
	t.Helper()
	deadline := time.Now().Add(stopGuard)
	for runningQueries(t, p) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the server still runs %s queries, want %s", runningQueries(t, p), want)
		}
		sleepBriefly()
	}
}

// startQuery posts a query and returns once the server has begun it
// (its first NDJSON line); cancel is the client going away.
func startQuery(t *testing.T, p *serveProc, token, query string) (lines <-chan string, cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", p.url+"/api/v1/orgs/"+rootOrg+"/query", strings.NewReader(query))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	if first, ok := <-ch; !ok || !strings.Contains(first, `"begin"`) {
		cancel()
		t.Fatalf("query %q began with %q", query, first)
	}
	return ch, cancel
}

// Over HTTP, a query ends when its client goes away — the server does not
// go on running it — and when the server shuts down, which then completes
// without waiting out its grace period. A recursive stored query ends by
// itself, its error in the stream.
func TestServeStopsQueries(t *testing.T) {
	p := startServe(t, nil)
	token := p.token(t, "--name", "q", "--role", "reader")
	if got := runningQueries(t, p); got != "0" {
		t.Fatalf("running before any query: %s", got)
	}
	for _, tt := range longQueries {
		t.Run("client leaves: "+tt.name, func(t *testing.T) {
			_, cancel := startQuery(t, p, token, tt.query)
			waitRunning(t, p, "1")
			cancel()
			waitRunning(t, p, "0")
		})
	}

	t.Run("recursive stored query", func(t *testing.T) {
		lines, cancel := startQuery(t, p, token, "LET X = SELECT * FROM X SELECT * FROM X")
		defer cancel()
		var said []string
		for l := range lines {
			said = append(said, l)
		}
		if all := strings.Join(said, "\n"); !strings.Contains(all, "Stack overflow: stored query X calls itself (X → X)") || !strings.Contains(all, `"end"`) {
			t.Errorf("stream: %s", all)
		}
	})

	lines, cancel := startQuery(t, p, token, longQueries[0].query)
	defer cancel()
	waitRunning(t, p, "1")
	p.stop(t)
	for range lines { // the stream ends: the server ended the query
	}
	if said := p.stderr.String(); !strings.Contains(said, "vqlq serve: stopped") || strings.Contains(said, "still running") {
		t.Errorf("serve said %q", said)
	}
}

// unread is how many bytes wait in a socket's receive queue.
func unread(t *testing.T, c *net.TCPConn) int {
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	var errno syscall.Errno
	raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	if errno != 0 {
		t.Fatal(errno)
	}
	return int(n)
}

// A client that stops reading cannot hold a query, nor the server's
// shutdown: the server's writes to it are blocked, and shutting down
// ends them rather than waiting out its grace period.
func TestServeShutdownWithAClientThatDoesNotRead(t *testing.T) {
	p := startServe(t, nil)
	token := p.token(t, "--name", "q", "--role", "reader")
	addr := strings.TrimPrefix(p.url, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := "SELECT * FROM range(end=1e12)"
	req := "POST /api/v1/orgs/" + rootOrg + "/query HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, p, "1")
	// The rows pile up in the socket's buffers until they are full: the
	// server is then blocked writing to us.
	deadline := time.Now().Add(stopGuard)
	for last, same := -1, 0; same < 10; {
		if n := unread(t, c.(*net.TCPConn)); n > 0 && n == last {
			same++
		} else {
			last, same = n, 0
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection's buffers never filled")
		}
		sleepBriefly()
	}
	p.stop(t)
	if said := p.stderr.String(); !strings.Contains(said, "vqlq serve: stopped") || strings.Contains(said, "still running") {
		t.Errorf("serve said %q", said)
	}
}

// The server's --max-query-memory bounds the queries it runs for its
// clients; an attached command's own flag does not apply, and it is told.
func TestServeMemoryBudget(t *testing.T) {
	p := startServe(t, nil, "--max-query-memory", "1MiB")
	token := p.token(t, "--name", "q", "--role", "reader")
	url := p.url + "/api/v1/orgs/" + rootOrg + "/query"
	tests := []struct{ query, want string }{
		{"SELECT _value FROM range(end=1000000) ORDER BY _value DESC", "query memory budget exceeded: ORDER BY held"},
		{"SELECT _value FROM range(end=1000000) ORDER BY _value DESC LIMIT 1", `"row":{"_value":999999}`},
	}
	for _, tt := range tests {
		status, body, err := post(url, token, tt.query)
		if err != nil || status != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %v %.300s, want %q", tt.query, status, err, body, tt.want)
		}
	}
	r := runVQLQ(t, "", "query", "--data-dir", p.data, "--max-query-memory", "2GB", "SELECT _value FROM range(end=1000000) ORDER BY _value DESC")
	if r.code != exitRuntime || !strings.Contains(r.stderr, "its --max-query-memory applies, not this one") || !strings.Contains(r.stderr, "more than the 1MiB") {
		t.Errorf("attached: %d %q", r.code, r.stderr)
	}
}
