package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A `vqlq serve` with many idle watchers — HTTP watches and API queries
// running watch_monitoring() — on the queue a publisher sends to: every
// watcher receives every event of every publish, once and in order. The
// time of each publish (one POST of 100 rows, and one API query that
// sends 100 rows with send_event()) with no watcher and with them is
// logged, for BENCHMARKS.md; nothing is asserted on it.
// VQLQ_FANOUT_WATCHERS sets the number of watchers of each kind (default
// 100; BENCHMARKS.md reports 2,500 + 2,500), VQLQ_FANOUT_ROUNDS the
// publishes of each kind (default 5), VQLQ_FANOUT_KINDS=http or vql keeps
// only that kind of watcher.
func TestServeIdleWatchersFanOut(t *testing.T) {
	perKind := envInt("VQLQ_FANOUT_WATCHERS", 100)
	rounds := envInt("VQLQ_FANOUT_ROUNDS", 5)
	kinds := map[string]int{"http": perKind, "vql": perKind}
	if k := os.Getenv("VQLQ_FANOUT_KINDS"); k == "http" || k == "vql" {
		kinds = map[string]int{k: 2 * perKind}
	}
	const rows = 100
	raiseFileLimit(t, 2*perKind+200)
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	if n := processFileLimit(p.cmd.Process.Pid); n != 0 && n < uint64(2*perKind+200) {
		t.Skipf("the server may open %d files; %d watchers need more", n, 2*perKind)
	}
	admin := p.token(t, "--name", "fan", "--role", "admin")
	base := p.url + "/api/v1/orgs/" + rootOrg
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	next := 0 // the value of i in the next event sent
	publishBatch := func() time.Duration {
		var body strings.Builder
		for range rows {
			fmt.Fprintf(&body, "{\"i\":%d}\n", next)
			next++
		}
		start := time.Now()
		status, out, err := postWith(client, base+"/events/Server.Events.Receive", admin, body.String())
		if err != nil || status != 200 {
			t.Fatalf("publish: %d %s %v", status, out, err)
		}
		return time.Since(start)
	}
	publishQuery := func() time.Duration {
		q := fmt.Sprintf("SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) AS s FROM range(start=%d, end=%d)", next, next+rows)
		next += rows
		start := time.Now()
		status, out, err := postWith(client, base+"/query", admin, q)
		if err != nil || status != 200 || strings.Count(out, `"type":"row"`) != rows {
			t.Fatalf("publish by query: %d %s %v", status, out, err)
		}
		return time.Since(start)
	}

	// Figures with no watcher first.
	var idle [2][]time.Duration
	for range rounds {
		idle[0] = append(idle[0], publishBatch())
		idle[1] = append(idle[1], publishQuery())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := next
	var received atomic.Int64
	problems := make(chan string, 2*perKind)
	var wg sync.WaitGroup
	watch := func(name string, req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", name, resp, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			want := first
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				i, ok := fieldI(sc.Bytes())
				if !ok {
					continue // log and begin lines of a query
				}
				if i != want {
					problems <- fmt.Sprintf("%s: event %d is i=%d", name, want, i)
					return
				}
				want++
				received.Add(1)
			}
			if ctx.Err() == nil {
				problems <- fmt.Sprintf("%s: stream ended after i=%d: %v", name, want-1, sc.Err())
			}
		}()
	}
	for w := range kinds["http"] {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events/Server.Events.Receive", nil)
		watch(fmt.Sprintf("HTTP watcher %d", w), req)
	}
	for w := range kinds["vql"] {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/query", strings.NewReader("SELECT i FROM watch_monitoring(artifact='Server.Events.Receive')"))
		watch(fmt.Sprintf("VQL watcher %d", w), req)
	}
	waitFolderWatchers(t, p.data, 2*perKind)

	var busy [2][]time.Duration
	total := int64(0)
	for r := range 2 * rounds {
		var d time.Duration
		if r%2 == 0 {
			d = publishBatch()
		} else {
			d = publishQuery()
		}
		busy[r%2] = append(busy[r%2], d)
		// Every watcher has the publish before the next one: each starts
		// with every watcher idle.
		total += int64(2 * perKind * rows)
		deadline := time.Now().Add(5 * time.Minute)
		for received.Load() < total && len(problems) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := received.Load(); got != total {
			t.Fatalf("after publish %d: %d of %d rows received", r+1, got, total)
		}
	}
	cancel()
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	for k, kind := range []string{"one POST of 100 rows", "send_event() of 100 rows in one API query"} {
		t.Logf("%s: no watcher %s; %d HTTP + %d VQL idle watchers %s", kind, figures(idle[k]), kinds["http"], kinds["vql"], figures(busy[k]))
	}
}

// fieldI reads the value of "i" in a line of JSON (a watched event or a
// query's row message) without decoding it: the client shares the CPU
// with the server, and thousands of watchers decoding would weigh on
// what is measured.
func fieldI(line []byte) (int, bool) {
	j := bytes.Index(line, []byte(`"i":`))
	if j < 0 {
		return 0, false
	}
	rest := line[j+4:]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:end]))
	return n, err == nil
}

// figures is the median and the largest of some durations.
func figures(ds []time.Duration) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return fmt.Sprintf("median %v, max %v", s[len(s)/2].Round(10*time.Microsecond), s[len(s)-1].Round(10*time.Microsecond))
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func postWith(client *http.Client, url, token, body string) (int, string, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// raiseFileLimit lifts this process's soft limit of open files to at
// least n (up to the hard limit), or skips the test.
func raiseFileLimit(t *testing.T, n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read the open-file limit: %v", err)
	}
	if lim.Cur >= uint64(n) {
		return
	}
	if lim.Max < uint64(n) {
		t.Skipf("%d watchers need %d open files; the hard limit is %d", n/2, n, lim.Max)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise the open-file limit: %v", err)
	}
}

// processFileLimit reads a process's soft limit of open files (0: unknown).
func processFileLimit(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "Max open files") && len(f) >= 4 {
			n, _ := strconv.ParseUint(f[3], 10, 64)
			return n
		}
	}
	return 0
}
