package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/flood"
)

// relaunch starts `vqlq serve` again on p's data and definitions folders,
// with extra flags.
func relaunch(t *testing.T, p *serveProc, extra ...string) *serveProc {
	q := &serveProc{data: p.data, defs: p.defs}
	q.cmd = exec.Command(vqlqBin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", q.data, "--definitions", q.defs}, extra...)...)
	stdout, _ := q.cmd.StdoutPipe()
	q.cmd.Stderr = os.Stderr
	if err := q.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if q.cmd.ProcessState == nil {
			q.cmd.Process.Kill()
			q.cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, rest, ok := strings.Cut(line, "listening on ")
	if err != nil || !ok {
		t.Fatalf("serve said %q, %v", line, err)
	}
	q.url = strings.Fields(rest)[0]
	go io.Copy(io.Discard, stdout)
	return q
}

// stop sends SIGTERM and waits: the store is flushed and closed.
func (p *serveProc) stop(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// procKB reads a field of /proc/PID/status, in KiB.
func procKB(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	t.Skipf("no %s in /proc/%d/status", field, pid)
	return 0
}

// rssPhase measures the peak RSS growth of the server over f: the peak
// (VmHWM, reset first through clear_refs) minus the RSS at the start.
func rssPhase(t *testing.T, pid int, f func()) float64 {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
	before := procKB(t, pid, "VmRSS")
	f()
	return float64(procKB(t, pid, "VmHWM")-before) / 1024
}

// folderUsage is the disk space a folder takes (allocated blocks, as du
// counts) and the sum of its files' sizes, in bytes.
func folderUsage(t *testing.T, dir string) (allocated, size int64) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		size += info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			allocated += st.Blocks * 512
		}
		return nil
	})
	return allocated, size
}

// TestServeFloodsWithoutToken runs the floods of the security issue
// against the real `vqlq serve` and measures the process (peak RSS, from
// /proc) and its data folder (allocated blocks, after a clean stop that
// flushes the store):
//
//   - a 1 GB POST (chunked, 1 KB rows) and a POST of one 10 MB line, with
//     an admin token: 413 each, reading stopped at --max-body or
//     --max-row-bytes. Before: RSS +2 GB.
//   - 600 requests without a token with 800 KB paths, 100 at a time: 431
//     each. Before: RSS 2.6 GB, data folder +459 MB.
//   - 20,000 requests without a token from one address (2,000 with
//     -short): 401 each. Before: 20,002 audit events.
//
// Then vqlq_http_refused_total (scraped through the folder's socket)
// counts every one, and Server.Audit.Logs holds the refusals within the
// rate of one address (burst 20, then 10/s) plus summaries that account
// for all the others.
//
//	go test -run TestServeFloodsWithoutToken -v ./cmd/vqlq/
//
// Figures measured are in BENCHMARKS.md ("Limits").
func TestServeFloodsWithoutToken(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	admin := p.token(t, "--name", "admin", "--role", "admin")
	p.stop(t)
	alloc0, size0 := folderUsage(t, p.data)
	p = relaunch(t, p)
	pid := p.cmd.Process.Pid
	addr := strings.TrimPrefix(p.url, "http://")
	sendURL := p.url + "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive"
	start := time.Now()

	for _, tt := range []struct {
		name string
		body io.Reader
		msg  string
	}{
		{"1 GB of 1 KB rows", flood.Repeat([]byte(`{"pad":"`+strings.Repeat("x", 1000)+"\"}\n"), 1<<30), "body over the limit of 16777216 bytes (vqlq serve --max-body)"},
		{"one line of 10 MB", flood.Repeat([]byte(`{"a":"xxxxxxxx`), 10<<20), "row 1 is more than 1048576 bytes, over the limit of 1048576 (vqlq serve --max-row-bytes)"},
	} {
		var status int
		var got struct{ Error string }
		growth := rssPhase(t, pid, func() {
			req, _ := http.NewRequest("POST", sendURL, tt.body)
			req.ContentLength = -1
			req.Header.Set("Authorization", "Bearer "+admin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			status = resp.StatusCode
		})
		t.Logf("%s: %d, server peak RSS %+.1f MiB", tt.name, status, growth)
		if status != http.StatusRequestEntityTooLarge || got.Error != tt.msg {
			t.Errorf("%s: %d %q, want 413 %q", tt.name, status, got.Error, tt.msg)
		}
		if growth > 64 {
			t.Errorf("%s: the server's RSS grew by %.1f MiB (limit 64)", tt.name, growth)
		}
	}

	const long, parallel = 600, 100
	// Paths that do not compress, so the store cannot make them small.
	path := make([]byte, 800<<10)
	rand.NewChaCha8([32]byte{}).Read(path)
	path = []byte(base64.RawURLEncoding.EncodeToString(path)[:800<<10])
	head := []byte("GET /api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive/")
	tail := []byte(" HTTP/1.1\r\nHost: vqlq\r\n\r\n")
	var wrong atomic.Int64
	growth := rssPhase(t, pid, func() {
		var wg sync.WaitGroup
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range long / parallel {
					if status, err := flood.RawStatus(addr, 60*time.Second, head, path, tail); err != nil || status != http.StatusRequestHeaderFieldsTooLarge {
						wrong.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	})
	t.Logf("%d requests with 800 KB paths: server peak RSS %+.1f MiB", long, growth)
	if wrong.Load() > 0 {
		t.Errorf("%d of them not refused with 431", wrong.Load())
	}
	if growth > 100 {
		t.Errorf("the server's RSS grew by %.1f MiB (limit 100)", growth)
	}

	tiny := 20000
	if testing.Short() {
		tiny = 2000
	}
	wrong.Store(0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	growth = rssPhase(t, pid, func() {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < tiny; i += 4 {
					resp, err := client.Get(sendURL)
					if err != nil {
						wrong.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusUnauthorized {
						wrong.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	})
	t.Logf("%d tiny requests: server peak RSS %+.1f MiB", tiny, growth)
	if wrong.Load() > 0 {
		t.Errorf("%d of them not refused with 401", wrong.Load())
	}
	if growth > 100 {
		t.Errorf("the server's RSS grew by %.1f MiB (limit 100)", growth)
	}

	resp, err := p.socketClient().Get("http://vqlq/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`vqlq_http_refused_total{reason="header_too_large",status="431"} 600`,
		fmt.Sprintf(`vqlq_http_refused_total{reason="missing_token",status="401"} %d`, tiny),
		`vqlq_http_refused_total{reason="body_too_large",status="413"} 1`,
		`vqlq_http_refused_total{reason="row_too_large",status="413"} 1`,
	} {
		if !strings.Contains(string(metrics), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	elapsed := time.Since(start)
	allocRun, sizeRun := folderUsage(t, p.data)
	p.stop(t)
	alloc1, size1 := folderUsage(t, p.data)
	mib := func(v int64) float64 { return float64(v) / (1 << 20) }
	t.Logf("data folder: %+.2f MiB allocated (%+.2f MiB of file sizes) while running, %+.2f MiB (%+.2f MiB) once stopped",
		mib(allocRun-alloc0), mib(sizeRun-size0), mib(alloc1-alloc0), mib(size1-size0))
	if alloc1-alloc0 > 4<<20 || allocRun-alloc0 > 4<<20 {
		t.Errorf("the data folder grew by %.1f MiB while running, %.1f MiB once stopped (limit 4)", mib(allocRun-alloc0), mib(alloc1-alloc0))
	}

	r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl",
		"SELECT operation, details FROM source(artifact='Server.Audit.Logs') WHERE operation =~ '^refused'")
	recorded, summaries := 0, 0
	suppressed := 0.0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row struct {
			Operation string
			Details   map[string]any
		}
		json.Unmarshal([]byte(line), &row)
		switch row.Operation {
		case "refused":
			recorded++
		case "refused_suppressed":
			summaries++
			suppressed += row.Details["suppressed"].(float64)
		}
	}
	total := 2 + long + tiny
	// One address: the burst, then 10 a second; a summary each 10 s.
	maxRecorded := 20 + int(10*elapsed.Seconds()) + 1
	t.Logf("%d refusals in %v: %d recorded, %v suppressed in %d summaries", total, elapsed.Round(time.Millisecond), recorded, suppressed, summaries)
	if recorded+int(suppressed) != total || recorded > maxRecorded || summaries > int(elapsed/(10*time.Second))+2 {
		t.Errorf("audit: %d recorded (at most %d), %v suppressed in %d summaries; want %d in all", recorded, maxRecorded, suppressed, summaries, total)
	}
}
