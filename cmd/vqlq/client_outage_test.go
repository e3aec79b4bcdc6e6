package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seqDef is the artifact the outage test's clients run: each row says
// which process emitted it (Pid) and its number within that process (N),
// so that a lost, repeated or reordered row shows as a gap, a repeat or a
// step back in N.
const seqDef = `name: Test.Client.Seq
type: CLIENT_EVENT
sources:
  - query: SELECT getpid() AS Pid, count() AS N FROM clock(period=0.02)
`

// clientProc is a running `vqlq client`.
type clientProc struct {
	cmd *exec.Cmd
	dir string
	out *syncBuffer // stdout and stderr
}

func startClient(t *testing.T, dir, url, enrollToken string, extra ...string) *clientProc {
	t.Helper()
	c := &clientProc{dir: dir, out: &syncBuffer{}}
	args := []string{"client", "--data-dir", dir, "--server", url, "--ping", "500ms"}
	if enrollToken != "" {
		args = append(args, "--enroll-token", enrollToken)
	}
	c.cmd = exec.Command(vqlqBin, append(args, extra...)...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("client %s said:\n%s", filepath.Base(dir), c.out)
		}
	})
	return c
}

// seqRow is one row of Test.Client.Seq as the server stored it.
type seqRow struct {
	ClientId string
	Pid      int
	N        int
}

// seqRows reads the server's queue of Test.Client.Seq, in its order,
// through the running server.
func seqRows(t *testing.T, data string) []seqRow {
	t.Helper()
	r := runVQLQ(t, "", "query", "--data-dir", data, "--format", "jsonl",
		"SELECT ClientId, Pid, N FROM source(artifact='Test.Client.Seq')")
	if r.code != 0 {
		t.Fatalf("reading the queue: %+v", r)
	}
	var rows []seqRow
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" {
			continue
		}
		var row seqRow
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	return rows
}

func countBy(rows []seqRow) map[string]int {
	n := map[string]int{}
	for _, r := range rows {
		n[r.ClientId]++
	}
	return n
}

// freeAddr is a loopback address no one listens on now: the server
// restarts on it, and the clients find it there again.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var clientIDLine = regexp.MustCompile(`vqlq client: (C\.[0-9a-f]+) \(folder`)
var stoppedLine = regexp.MustCompile(`stopped; (\d+) rows \((\d+) bytes\) wait for the server, kept in .*; (\d+) rows refused`)

// The case, with real processes: one server, three clients
// emitting numbered rows; the server stops for 10 s while one client is
// killed with SIGKILL and started again; then the server itself is
// killed with SIGKILL once and started again. Every row a client put in
// its buffer is in the server's queue once, in order per client: for
// each process of a client its rows are numbered 1, 2, 3 … without a gap
// or a repeat, a client's processes follow each other, and at the end
// every client says nothing is left to send.
func TestClientsLoseNothingThroughOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("the outage test stops the server for 10 s")
	}
	addr := freeAddr(t)
	flags := []string{"--listen", addr, "--client-monitor", "Test.Client.Seq"}
	srv := startServe(t, map[string]string{"seq.yaml": seqDef}, flags...)
	enroll := srv.token(t, "--name", "enroller", "--role", "enroll")

	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	clients := make([]*clientProc, len(dirs))
	for i, d := range dirs {
		clients[i] = startClient(t, d, srv.url, enroll)
	}
	waitRows := func(what string, atLeast func(id string, n int) bool, ids []string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			n := countBy(seqRows(t, srv.data))
			ok := len(ids) > 0
			for _, id := range ids {
				ok = ok && atLeast(id, n[id])
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: rows by client %v", what, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Each client prints its id once enrolled.
	ids := make([]string, len(clients))
	for i, c := range clients {
		deadline := time.Now().Add(30 * time.Second)
		for ids[i] == "" {
			if m := clientIDLine.FindStringSubmatch(c.out.String()); m != nil {
				ids[i] = m[1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("client %d did not enroll: %s", i, c.out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitRows("20 rows of each client", func(_ string, n int) bool { return n >= 20 }, ids)

	// The server stops for 10 s; meanwhile client 1 is killed and started
	// again: its new process runs the table it kept and buffers.
	before := countBy(seqRows(t, srv.data))
	srv.stop(t)
	stopped := time.Now()
	time.Sleep(3 * time.Second)
	clients[1].cmd.Process.Kill()
	clients[1].cmd.Wait()
	clients[1] = startClient(t, dirs[1], srv.url, "")
	time.Sleep(10*time.Second - time.Since(stopped))
	srv = relaunch(t, srv, flags...)
	waitRows("rows from the 10 s outage and after it", func(id string, n int) bool { return n >= before[id]+500+20 }, ids)

	// The server is killed while rows arrive, and started again.
	killed := countBy(seqRows(t, srv.data))
	srv.cmd.Process.Kill()
	srv.cmd.Wait()
	srv = relaunch(t, srv, flags...)
	waitRows("rows after the server's SIGKILL", func(id string, n int) bool { return n >= killed[id]+50 }, ids)

	// The artifact leaves the table: the sources stop, the buffers drain.
	if r := runVQLQ(t, "", "query", "--data-dir", srv.data, "SELECT rm_client_monitoring(artifact='Test.Client.Seq') FROM scope()"); r.code != 0 {
		t.Fatalf("rm_client_monitoring: %+v", r)
	}
	last, still := map[string]int{}, 0
	for deadline := time.Now().Add(60 * time.Second); still < 10; {
		n := countBy(seqRows(t, srv.data))
		if fmt.Sprint(n) == fmt.Sprint(last) {
			still++
		} else {
			still = 0
		}
		last = n
		if time.Now().After(deadline) {
			t.Fatalf("the queue never stopped growing after rm_client_monitoring: %v", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, c := range clients {
		c.cmd.Process.Signal(syscall.SIGTERM)
		c.cmd.Wait()
		m := stoppedLine.FindStringSubmatch(c.out.String())
		if m == nil || m[1] != "0" || m[3] != "0" {
			t.Errorf("client %d (%s) stopped with rows left to send or dropped: %q", i, ids[i], m)
		}
	}

	rows := seqRows(t, srv.data)
	runs := map[string][]int{} // each client's processes, in the order their rows came
	next := map[[2]any]int{}   // the N expected next of (client, pid)
	for i, r := range rows {
		key := [2]any{r.ClientId, r.Pid}
		pids := runs[r.ClientId]
		if len(pids) == 0 || pids[len(pids)-1] != r.Pid {
			for _, p := range pids {
				if p == r.Pid {
					t.Fatalf("row %d: client %s process %d comes back after process %d", i, r.ClientId, r.Pid, pids[len(pids)-1])
				}
			}
			runs[r.ClientId] = append(pids, r.Pid)
			next[key] = 1
		}
		if r.N != next[key] {
			t.Fatalf("row %d: client %s process %d: N = %d, want %d (a row lost, repeated or out of order)", i, r.ClientId, r.Pid, r.N, next[key])
		}
		next[key]++
	}
	for i, id := range ids {
		want := 1
		if i == 1 {
			want = 2 // the killed process, then the one started in the outage
		}
		if len(runs[id]) != want {
			t.Errorf("client %d (%s): rows of %d processes %v, want %d", i, id, len(runs[id]), runs[id], want)
		}
	}
	t.Logf("%d rows; by client %v; processes %v", len(rows), countBy(rows), runs)
}

// Against a server that serves TLS the client talks TLS: with --ca-cert
// naming the server's (self-signed) certificate it enrolls and delivers;
// without it, it refuses the server's certificate and sends nothing.
func TestClientOverTLS(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	srv := startServe(t, map[string]string{"seq.yaml": seqDef}, "--tls-cert", certFile, "--tls-key", keyFile, "--client-monitor", "Test.Client.Seq")
	if !strings.HasPrefix(srv.url, "https://") {
		t.Fatalf("serve listens on %s", srv.url)
	}
	enroll := srv.token(t, "--name", "enroller", "--role", "enroll")

	untrusting := startClient(t, t.TempDir(), srv.url, enroll)
	trusting := startClient(t, t.TempDir(), srv.url, enroll, "--ca-cert", certFile)
	deadline := time.Now().Add(30 * time.Second)
	for len(seqRows(t, srv.data)) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("no rows over TLS: %s", trusting.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for !strings.Contains(untrusting.out.String(), "certificate signed by unknown authority; retrying (the server's certificate is not one this machine trusts: give --ca-cert") {
		if time.Now().After(deadline) {
			t.Fatalf("the client without --ca-cert did not say why it cannot enroll: %s", untrusting.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	m := clientIDLine.FindStringSubmatch(trusting.out.String())
	if m == nil {
		t.Fatalf("no client id: %s", trusting.out)
	}
	for _, r := range seqRows(t, srv.data) {
		if r.ClientId != m[1] {
			t.Fatalf("a row of %s; only %s could enroll", r.ClientId, m[1])
		}
	}
	if strings.Contains(untrusting.out.String(), "enrolled as") {
		t.Errorf("the untrusting client enrolled: %s", untrusting.out)
	}
}
