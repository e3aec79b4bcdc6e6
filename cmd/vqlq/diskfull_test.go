package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

// A full disk is an error, not a crash: `vqlq serve` on a 30 MB tmpfs,
// flooded with events, refuses them with 507 once free space falls below
// --min-free, stays up, answers reads and shows the state in /metrics;
// when space is freed writes resume; after a restart every acknowledged
// event is there.
func TestFullDiskRefusesWritesAndRecovers(t *testing.T) {
	tmp := mountTmpfs(t, "30m")
	data := filepath.Join(tmp, "data")
	// A filler the test can delete to free space again.
	filler := filepath.Join(tmp, "filler")
	if err := os.WriteFile(filler, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, map[string]string{"r.yaml": receiveDef}, "--data-dir", data, "--min-free", "12MB")
	p.data = data
	pub := p.token(t, "--name", "pub", "--role", "publisher", "--queue", "Server.Events.Receive")
	mon := p.token(t, "--name", "prom", "--role", "metrics")
	if got := scrape(t, p.url, mon, "vqlq_disk_full"); got != "0" {
		t.Fatalf("vqlq_disk_full %s before the flood", got)
	}

	sendURL := p.url + "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive"
	batch := strings.Repeat(`{"pad":"`+strings.Repeat("x", 1000)+`"}`+"\n", 100)
	send := func() (int, string) {
		status, body, err := post(sendURL, pub, batch)
		if err != nil {
			t.Fatalf("send: %v (is the server still up? %s)", err, p.stderr.String())
		}
		return status, body
	}
	acked := 0
	var refusal string
	for i := 0; i < 1000 && refusal == ""; i++ { // 1000 batches are 100 MB: far past 30 MB
		status, body := send()
		switch status {
		case http.StatusOK:
			acked += strings.Count(body, "\n")
		case http.StatusInsufficientStorage:
			refusal = body
		default:
			t.Fatalf("send answered %d: %s", status, body)
		}
	}
	if refusal == "" {
		t.Fatalf("%d events sent to a 30 MB disk and none refused", acked)
	}
	t.Logf("refused after %d acknowledged events: %s", acked, strings.TrimSpace(refusal))
	for _, want := range []string{"not enough free disk space", "below the --min-free watermark of 12.0 MiB", "writes are refused until space is freed"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the refusal lacks %q", want)
		}
	}
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

	// Everything acknowledged survives a restart.
	p.stop(t)
	q := relaunch(t, p)
	if got := countStored(t, data, p.defs); got != fmt.Sprintf(`{"n":%d}`, acked) {
		t.Fatalf("after restart: %s, want %d", got, acked)
	}
	q.stop(t)
}
