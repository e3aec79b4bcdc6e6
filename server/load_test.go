package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/server"
	"github.com/vqlq/vqlq/vql"
)

// TestLoad runs 50 HTTP publishers and 20 watchers against a server on
// loopback for VQLQ_LOAD_SECONDS (default 3; BENCHMARKS.md reports 60),
// then checks that every watcher saw every event of its queue once, in
// each publisher's order. Throughput, latency and memory are logged.
func TestLoad(t *testing.T) {
	seconds := 3
	if s := os.Getenv("VQLQ_LOAD_SECONDS"); s != "" {
		seconds, _ = strconv.Atoi(s)
	}
	const publishers, watchers, nQueues = 50, 20, 5
	var names []string
	for q := range nQueues {
		names = append(names, fmt.Sprintf("Load.Q%d", q))
	}
	m, disk := newTestManager(t, queues.Options{}, names...)
	srv := server.New(server.Options{Manager: m, KV: disk, Engine: vql.NewEngine()})
	ts := newLoopbackServer(srv)
	defer ts.Close()
	admin, _ := server.IssueToken(context.Background(), m, disk, server.Token{Name: "load", Role: server.RoleAdmin, Org: "root"}, "test")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: publishers + watchers}}

	// Watchers first, live from the start.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		queue    int
		received int
		problem  string
	}
	results := make(chan result, watchers)
	var expected [nQueues]atomic.Int64
	var received [watchers]atomic.Int64
	for w := range watchers {
		q := w % nQueues
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/orgs/%s/events/Load.Q%d", ts.URL, rootOrg, q), nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer resp.Body.Close()
			last := map[int64]int64{}
			r := result{queue: q}
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				var ev struct{ P, I int64 }
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					r.problem = err.Error()
					break
				}
				if prev, ok := last[ev.P]; ok && ev.I != prev+1 {
					r.problem = fmt.Sprintf("publisher %d: event %d after %d", ev.P, ev.I, prev)
					break
				} else if !ok && ev.I != 0 {
					r.problem = fmt.Sprintf("publisher %d: first event %d", ev.P, ev.I)
					break
				}
				last[ev.P] = ev.I
				r.received++
				received[w].Add(1)
			}
			results <- r
		}()
	}
	waitForWatchers(t, m, watchers)

	var peakHeap atomic.Uint64
	sampleDone := make(chan struct{})
	go func() {
		for {
			select {
			case <-sampleDone:
				return
			case <-time.After(100 * time.Millisecond):
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peakHeap.Load() {
					peakHeap.Store(ms.HeapInuse)
				}
			}
		}
	}()

	var latMu sync.Mutex
	var latencies []time.Duration
	var sent atomic.Int64
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := fmt.Sprintf("%s/api/v1/orgs/%s/events/Load.Q%d", ts.URL, rootOrg, p%nQueues)
			var mine []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				body := fmt.Sprintf(`{"p":%d,"i":%d,"pad":"%s"}`, p, i, strings.Repeat("x", 100))
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var drain [512]byte
				for {
					if _, err := resp.Body.Read(drain[:]); err != nil {
						break
					}
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("publish: %d", resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(start))
				expected[p%nQueues].Add(1)
				sent.Add(1)
			}
			latMu.Lock()
			latencies = append(latencies, mine...)
			latMu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Duration(seconds) * time.Second
	// Wait until every watcher has its queue's events (or a hang guard
	// passes), then end the streams.
	guard := time.Now().Add(60 * time.Second)
	for time.Now().Before(guard) {
		all := true
		for w := range watchers {
			all = all && received[w].Load() >= expected[w%nQueues].Load()
		}
		if all {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	for range watchers {
		var r result
		select {
		case r = <-results:
		case <-time.After(60 * time.Second):
			t.Fatal("a watcher did not receive all its events")
		}
		if r.problem != "" {
			t.Errorf("watcher of Load.Q%d: %s", r.queue, r.problem)
		} else if int64(r.received) != expected[r.queue].Load() {
			t.Errorf("watcher of Load.Q%d received %d of %d", r.queue, r.received, expected[r.queue].Load())
		}
	}
	close(sampleDone)
	for q := range nQueues {
		first, last, _ := disk.Bounds("root|" + fmt.Sprintf("Load.Q%d", q))
		if int64(last-first+1) != expected[q].Load() {
			t.Errorf("Load.Q%d stored %d, sent %d", q, last-first+1, expected[q].Load())
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	n := len(latencies)
	t.Logf("%d publishers, %d watchers, %ds: %d events, %.0f events/s; publish latency p50 %v p99 %v; peak Go heap in use %.1f MiB, RSS %s",
		publishers, watchers, seconds, sent.Load(), float64(sent.Load())/elapsed.Seconds(),
		latencies[n/2].Round(time.Microsecond), latencies[n*99/100].Round(time.Microsecond),
		float64(peakHeap.Load())/(1<<20), processRSS())
}

func waitForWatchers(t *testing.T, m *queues.Manager, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		total := 0
		for _, q := range m.Queues("root") {
			total += q.Watchers
		}
		if total == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("watchers did not register")
}

func processRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")) + " (peak)"
		}
	}
	return "unknown"
}
