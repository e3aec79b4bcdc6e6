package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// queueEnv is a data folder and a definitions folder for CLI tests.
type queueEnv struct {
	data, defs string
}

func newQueueEnv(t *testing.T) queueEnv {
	e := queueEnv{data: filepath.Join(t.TempDir(), "data"), defs: t.TempDir()}
	os.WriteFile(filepath.Join(e.defs, "receive.yaml"), []byte("name: Server.Events.Receive\ntype: SERVER_EVENT\n"), 0o644)
	return e
}

func (e queueEnv) args(extra ...string) []string {
	return append([]string{"query", "--data-dir", e.data, "--definitions", e.defs, "--format", "jsonl"}, extra...)
}

func TestSeedWalkthroughFromTheCommandLine(t *testing.T) {
	e := newQueueEnv(t)
	r := runVQLQ(t, "", e.args(`SELECT * FROM chain(async=TRUE, a={SELECT * FROM watch_monitoring(artifact="Server.Events.Receive") LIMIT 1}, b={SELECT send_event(row=dict(a=1,b=2,c=3), artifact="Server.Events.Receive") AS Sent FROM scope() WHERE sleep(time=1)})`)...)
	// Two rows, in whichever order the two queries of the chain gave them:
	// the watched event and the stamped row send_event returned.
	watched, sent := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		switch {
		case strings.HasPrefix(line, `{"a":1,"b":2,"c":3,"_ts":`) && strings.HasSuffix(line, `,"_Source":"server"}`):
			watched++
		case strings.HasPrefix(line, `{"Sent":{"a":1,"b":2,"c":3,"_ts":`) && strings.HasSuffix(line, `,"_Source":"server"}}`):
			sent++
		}
	}
	if r.code != 0 || watched != 1 || sent != 1 {
		t.Fatalf("%+v", r)
	}
	// A later process on the same data folder reads the stored event.
	r = runVQLQ(t, "", e.args(`SELECT a, b, c, _Source FROM source(artifact="Server.Events.Receive")`)...)
	if r.code != 0 || r.stdout != "{\"a\":1,\"b\":2,\"c\":3,\"_Source\":\"server\"}\n" {
		t.Fatalf("source in a new process: %+v", r)
	}
	r = runVQLQ(t, "", e.args(`SELECT * FROM chain(async=TRUE, a={SELECT name FROM watch_monitoring(artifact='Server.Internal.Alerts') LIMIT 1}, b={SELECT alert(dedup=-1, name="Test Alert") AS A FROM scope() WHERE sleep(time=0.5)})`)...)
	if r.code != 0 || !strings.Contains(r.stdout, `{"name":"Test Alert"}`) {
		t.Fatalf("alert: %+v", r)
	}
	// Another org sees none of it.
	r = runVQLQ(t, "", append(e.args(`SELECT count() AS n FROM source(artifact="Server.Events.Receive")`), "--org", "other")...)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("other org: %+v", r)
	}
}

// TestBadDefinitionFileIsSkipped: a file of the definitions folder that is
// not a valid definition is left out with a warning at its line, offering
// the field meant; the rest of the folder is usable. Only a folder that
// cannot be read is a usage error.
func TestBadDefinitionFileIsSkipped(t *testing.T) {
	e := newQueueEnv(t)
	bad := filepath.Join(e.defs, "bad.yaml")
	os.WriteFile(bad, []byte("name: Custom.Bad\ntype: SERVER_EVENT\nsoruces: []\n"), 0o644)
	r := runVQLQ(t, "", e.args("SELECT 1 AS one FROM scope()")...)
	warning := "WARN:" + bad + `:3: unknown field "soruces" (did you mean sources?); artifact Custom.Bad is not loaded` + "\n"
	if r.code != 0 || r.stdout != "{\"one\":1}\n" || !strings.HasPrefix(r.stderr, warning) ||
		!strings.Contains(r.stderr, "INFO:definitions: ") || !strings.Contains(r.stderr, "; 1 not loaded (1 invalid definition; see the warnings)\n") {
		t.Fatalf("%+v", r)
	}
	r = runVQLQ(t, "", "query", "--data-dir", t.TempDir(), "--definitions", filepath.Join(e.defs, "missing"), "SELECT 1 FROM scope()")
	if r.code != 2 || !strings.Contains(r.stderr, "reading the definitions folder") {
		t.Fatalf("a missing folder: %+v", r)
	}
}

// Nothing acknowledged is lost: a process floods send_event and is killed
// with SIGKILL mid-flood; every event it printed (send_event returned, so
// it was acknowledged) is in the queue after a restart, once, in order.
func TestKillDuringFloodLosesNothingAcknowledged(t *testing.T) {
	e := newQueueEnv(t)
	cmd := exec.Command(vqlqBin, e.args(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)).i AS i FROM range(end=100000000)`)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	acked := 0
	for sc.Scan() {
		var row struct{ I int }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.I != acked {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		acked++
		if acked == 20000 {
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	cmd.Wait()
	r := runVQLQ(t, "", e.args(`SELECT i FROM source(artifact='Server.Events.Receive')`)...)
	if r.code != 0 {
		t.Fatalf("after restart: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < acked {
		t.Fatalf("%d acknowledged, %d stored", acked, len(lines))
	}
	for i, line := range lines {
		var row struct{ I int }
		if err := json.Unmarshal([]byte(line), &row); err != nil || row.I != i {
			t.Fatalf("stored event %d is %q", i, line)
		}
	}
	t.Logf("killed after %d acknowledged events; %d stored", acked, len(lines))
}

// A second process that writes to a busy data folder is told who holds
// it, even when the holder only reads (it wrote no pid file); two
// processes that only read share the folder.
func TestBusyDataFolderNamesTheHolder(t *testing.T) {
	e := newQueueEnv(t)
	runVQLQ(t, "", e.args(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=1)) FROM scope()`)...)
	cmd := exec.Command(vqlqBin, e.args(`SELECT * FROM chain(a={SELECT name FROM queues() LIMIT 1}, b={SELECT * FROM watch_monitoring(artifact='Server.Events.Receive')})`)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// The first row comes once the watcher has opened the folder.
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	r := runVQLQ(t, "", e.args(`SELECT i FROM source(artifact='Server.Events.Receive')`)...)
	if r.code != 0 || r.stdout != "{\"i\":1}\n" {
		t.Fatalf("a second reader: %+v", r)
	}
	r = runVQLQ(t, "", e.args(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=2)) FROM scope()`)...)
	if r.code != 1 || !strings.Contains(r.stderr, "is in use by another process (pid ") || !strings.Contains(r.stderr, "watch_monitoring") ||
		!strings.Contains(r.stderr, "To work on one folder from several processes, run vqlq serve on it: the others then attach to the server") {
		t.Fatalf("a writer: %+v", r)
	}
	// A server cannot take a folder a local command holds: it names the
	// holder and says what to do.
	r = runVQLQ(t, "", "serve", "--listen", "127.0.0.1:0", "--data-dir", e.data, "--definitions", e.defs)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("is in use by another process (pid %d: ", cmd.Process.Pid)) ||
		!strings.Contains(r.stderr, "Stop that process first: the server must own the folder") {
		t.Fatalf("serve: %+v", r)
	}
}
