package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of the given size (e.g. "30m") on a fresh
// folder, unmounted when the test ends. Mounting needs root: the test
// skips without it, unless VQLQ_REQUIRE_TMPFS=1 (CI, which runs as root)
// makes that a failure.
func mountTmpfs(t *testing.T, size string) string {
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot mount a %s tmpfs to fill a disk (needs root; CI runs as root and sets VQLQ_REQUIRE_TMPFS=1): %v: %s", size, err, strings.TrimSpace(string(out)))
		if os.Getenv("VQLQ_REQUIRE_TMPFS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// Registered after t.TempDir's own cleanup, so it runs before it; and
	// after the server's, which is started later.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// scrape reads one metric's value line from /metrics.
func scrape(t *testing.T, url, token, metric string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == metric {
			return f[1]
		}
	}
	t.Fatalf("/metrics has no %s (status %d)", metric, resp.StatusCode)
	return ""
}

// countStored counts the queue's events through a vqlq query (attached
// to the server when one owns the folder).
func countStored(t *testing.T, data, defs string) string {
	t.Helper()
	r := runVQLQ(t, "", "query", "--data-dir", data, "--definitions", defs, "--format", "jsonl",
		"SELECT count() AS n FROM source(artifact='Server.Events.Receive') GROUP BY 1")
	if r.code != 0 {
		t.Fatalf("reading the queue: %+v", r)
	}
	return strings.TrimSpace(r.stdout)
}

// floodBatch is 100 events of 1 KB.
var floodBatch = strings.Repeat(`{"pad":"`+strings.Repeat("x", 1000)+`"}`+"\n", 100)

// sendBatch posts floodBatch to the server.
func sendBatch(t *testing.T, p *serveProc, token string) (int, string) {
	t.Helper()
	status, body, err := post(p.url+"/api/v1/orgs/"+rootOrg+"/events/Server.Events.Receive", token, floodBatch)
	if err != nil {
		t.Fatalf("send: %v (is the server still up?)", err)
	}
	return status, body
}

// floodUntilRefused sends batches until the server answers 507; it
// returns how many events were acknowledged and the refusal.
func floodUntilRefused(t *testing.T, p *serveProc, token string) (int, string) {
	t.Helper()
	acked := 0
	for i := 0; i < 1000; i++ { // 1000 batches are 100 MB: far past a 30 MB disk
		status, body := sendBatch(t, p, token)
		switch status {
		case http.StatusOK:
			acked += strings.Count(body, "\n")
		case http.StatusInsufficientStorage:
			return acked, body
		default:
			t.Fatalf("send answered %d: %s", status, body)
		}
	}
	t.Fatalf("%d events sent to a 30 MB disk and none refused", acked)
	return 0, ""
}

// serveRefused runs `vqlq serve` expecting it to refuse to start: it is
// killed if it still runs after a minute (exit -1).
func serveRefused(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(vqlqBin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	cmd.Wait()
	timer.Stop()
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// fullDiskServer mounts a 30 MB tmpfs with an 8 MB filler file on it and
// starts `vqlq serve` there with --min-free 12MiB.
func fullDiskServer(t *testing.T) (p *serveProc, filler, pub string) {
	tmp := mountTmpfs(t, "30m")
	filler = filepath.Join(tmp, "filler")
	if err := os.WriteFile(filler, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(tmp, "data")
	p = startServe(t, map[string]string{"r.yaml": receiveDef}, "--data-dir", data, "--min-free", "12MiB")
	p.data = data
	pub = p.token(t, "--name", "pub", "--role", "publisher", "--queue", "Server.Events.Receive")
	return p, filler, pub
}

// A full disk is an error, not a crash: `vqlq serve` on a 30 MB tmpfs,
// flooded with events, refuses them with 507 once free space falls below
// --min-free, stays up, answers reads and shows the state in /metrics;
// when space is freed writes resume; after a restart every acknowledged
// event is there.
func TestFullDiskRefusesWritesAndRecovers(t *testing.T) {
	p, filler, pub := fullDiskServer(t)
	data := p.data
	mon := p.token(t, "--name", "prom", "--role", "metrics")
	if got := scrape(t, p.url, mon, "vqlq_disk_full"); got != "0" {
		t.Fatalf("vqlq_disk_full %s before the flood", got)
	}

	acked, refusal := floodUntilRefused(t, p, pub)
	t.Logf("refused after %d acknowledged events: %s", acked, strings.TrimSpace(refusal))
	for _, want := range []string{"not enough free disk space", "below the --min-free watermark of 12.0 MiB", "writes are refused until space is freed"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the refusal lacks %q", want)
		}
	}
	send := func() (int, string) { return sendBatch(t, p, pub) }
	// Refused again, still up, still reading, and the metric says so.
	if status, body := send(); status != http.StatusInsufficientStorage {
		t.Fatalf("a second send answered %d: %s", status, body)
	}
	if p.cmd.ProcessState != nil {
		t.Fatalf("serve exited: %v", p.cmd.ProcessState)
	}
	if got := countStored(t, data, p.defs); got != fmt.Sprintf(`{"n":%d}`, acked) {
		t.Fatalf("read while full: %s, want %d", got, acked)
	}
	if got := scrape(t, p.url, mon, "vqlq_disk_full"); got != "1" {
		t.Fatalf("vqlq_disk_full %s while refusing", got)
	}
	if got := scrape(t, p.url, mon, "vqlq_disk_refused_writes_total"); got == "0" {
		t.Fatalf("vqlq_disk_refused_writes_total %s after refusals", got)
	}

	// Free space: writes resume by themselves.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	resumed := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status, body := send()
		if status == http.StatusOK {
			acked += strings.Count(body, "\n")
			resumed = true
			break
		}
		if status != http.StatusInsufficientStorage {
			t.Fatalf("send answered %d: %s", status, body)
		}
	}
	if !resumed {
		t.Fatal("writes did not resume after space was freed")
	}
	if got := scrape(t, p.url, mon, "vqlq_disk_full"); got != "0" {
		t.Fatalf("vqlq_disk_full %s after space was freed", got)
	}

	// Everything acknowledged survives a restart. Restarted with the
	// default watermark, far above this disk, the server opens the store
	// read-only instead of letting badger's compactions crash it: it
	// reads, and refuses sends.
	p.stop(t)
	q := relaunch(t, p)
	if got := countStored(t, data, p.defs); got != fmt.Sprintf(`{"n":%d}`, acked) {
		t.Fatalf("after restart: %s, want %d", got, acked)
	}
	status, body := sendBatch(t, q, pub)
	if status != http.StatusInsufficientStorage || !strings.Contains(body, "below the --min-free watermark of 272.0 MiB") {
		t.Fatalf("a send after a restart on a nearly full disk: %d %s", status, body)
	}
	if got := scrape(t, q.url, mon, "vqlq_disk_full"); got != "1" {
		t.Fatalf("vqlq_disk_full %s after the restart", got)
	}
	q.stop(t)
}

// Killed while the disk is full, the server does not crash at every
// start: it refuses to start, changing nothing, while the disk cannot
// hold what badger must replay, and starts with every acknowledged event
// once space is freed.
func TestFullDiskRestartAfterKill(t *testing.T) {
	p, filler, pub := fullDiskServer(t)
	acked, _ := floodUntilRefused(t, p, pub)
	p.cmd.Process.Kill()
	p.cmd.Wait()

	before := folderHashes(t, p.data)
	r := serveRefused(t, "--data-dir", p.data, "--definitions", p.defs, "--min-free", "12MiB")
	if r.code != 1 || !strings.Contains(r.stderr, "replaying the memtable logs a crash left needs about") ||
		!strings.Contains(r.stderr, "free space on the disk and start again") {
		t.Fatalf("serve on a full disk after a kill: %+v", r)
	}
	if after := folderHashes(t, p.data); !reflect.DeepEqual(before, after) {
		t.Fatalf("the refused start changed the folder:\nbefore %v\nafter  %v", before, after)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	q := relaunch(t, p)
	if got := countStored(t, p.data, p.defs); got != fmt.Sprintf(`{"n":%d}`, acked) {
		t.Fatalf("after restart: %s, want %d", got, acked)
	}
	q.stop(t)
}
