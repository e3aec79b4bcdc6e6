package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vqlq/vqlq/internal/liveheap"
)

// TestDistinctAPIQueriesDoNotGrowTheHeap sends 100,000 different queries
// (20,000 with -short) to the query API over loopback: a server answering
// API queries for weeks must not keep anything per query it has answered.
func TestDistinctAPIQueriesDoNotGrowTheHeap(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	e := newAPIEnv(t, 0)
	const workers = 2
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	query := func(i int) error {
		text := fmt.Sprintf("SELECT %d AS n, { SELECT _value FROM range(end=1) } AS s, 'q%d' =~ 'q%d$' AS m FROM scope()", i, i, i)
		req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/orgs/"+rootOrg+"/query", strings.NewReader(text))
		req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf(`"row":{"n":%d,"s":0,"m":true}`, i); err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			return fmt.Errorf("query %d: %d %s %v; want %s", i, resp.StatusCode, body, err, want)
		}
		return nil
	}
	runAll := func(from, to int) {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := from + w; i < to; i += workers {
					if err := query(i); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	runAll(-2000, 0) // warm up: connections, pools, the regex cache
	before, after := liveheap.Around(func() { runAll(0, n) })
	growth := int64(after) - int64(before)
	t.Logf("%d distinct API queries: live heap %.1f MiB -> %.1f MiB", n, float64(before)/(1<<20), float64(after)/(1<<20))
	if growth > 10<<20 {
		t.Errorf("the live heap grew by %.1f MiB over %d distinct API queries", float64(growth)/(1<<20), n)
	}
}
