package server_test

import (
	"strings"
	"testing"
)

// metricsTestScrape reads /metrics over HTTP, as Prometheus does with a
// bearer token.
func metricsTestScrape(t *testing.T, e *debugTestEnv, token string) map[string]bool {
	t.Helper()
	body := e.get("/metrics", debugTestRequest{bearer: token}, "text/plain")
	lines := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		lines[l] = true
	}
	return lines
}

// metricsTestWant checks that every line is in the scrape, exactly.
func metricsTestWant(t *testing.T, lines map[string]bool, want ...string) {
	t.Helper()
	for _, w := range want {
		if !lines[w] {
			var near []string
			name, _, _ := strings.Cut(w, "{")
			for l := range lines {
				if strings.HasPrefix(l, name) && strings.Contains(l, "Server.Events.Receive") {
					near = append(near, l)
				}
			}
			t.Errorf("missing line\n\t%s\nlines of that name:\n\t%s", w, strings.Join(near, "\n\t"))
		}
	}
}

// TestMetricsScrape sends events to a disk queue and to a memory queue
// whose slow watcher loses some, in two orgs, and reads the counts back as
// Prometheus sees them with the token of a metrics role of root.
func TestMetricsScrape(t *testing.T) {
	e := newDebugTestEnv(t, debugTestEnvOptions{memory: 10}) // INTERNAL queues keep 10 events
	m := e.m

	pull, _ := debugTestWatcher(t, m, "root", debugTestQueue, debugTestQuery)
	debugTestSend(t, m, "root", debugTestQueue, 0, 3)
	pull()
	// The memory queue overwrites 20 of 30 events before its watcher reads.
	pullPing, _ := debugTestWatcher(t, m, "root", "Server.Internal.Ping", "")
	debugTestSend(t, m, "root", "Server.Internal.Ping", 0, 30)
	pullPing()
	debugTestSend(t, m, "acme", debugTestQueue, 0, 2)

	lines := metricsTestScrape(t, e, "metrics")
	const recv = `{org="root",queue="Server.Events.Receive",type="server_event"}`
	const ping = `{org="root",queue="Server.Internal.Ping",type="internal"}`
	const acme = `{org="acme",queue="Server.Events.Receive",type="server_event"}`
	const idle = `{org="root",queue="Server.Internal.Pong",type="internal"}`
	metricsTestWant(t, lines,
		"# TYPE vqlq_queue_events_sent_total counter",
		"# TYPE vqlq_queue_events_delivered_total counter",
		"# TYPE vqlq_queue_events_dropped_total counter",
		"# TYPE vqlq_queue_events_stored gauge",
		"# TYPE vqlq_queue_watchers gauge",
		"# TYPE vqlq_queue_backlog_events gauge",

		"vqlq_queue_events_sent_total"+recv+" 3",
		"vqlq_queue_events_delivered_total"+recv+" 1",
		"vqlq_queue_events_dropped_total"+recv+" 0",
		"vqlq_queue_events_stored"+recv+" 3",
		"vqlq_queue_watchers"+recv+" 1",
		"vqlq_queue_backlog_events"+recv+" 2",

		"vqlq_queue_events_sent_total"+ping+" 30",
		"vqlq_queue_events_delivered_total"+ping+" 1",
		"vqlq_queue_events_dropped_total"+ping+" 20",
		"vqlq_queue_events_stored"+ping+" 10",
		"vqlq_queue_watchers"+ping+" 1",
		"vqlq_queue_backlog_events"+ping+" 9",

		"vqlq_queue_events_sent_total"+acme+" 2",
		"vqlq_queue_events_delivered_total"+acme+" 0",
		"vqlq_queue_events_stored"+acme+" 2",
		"vqlq_queue_watchers"+acme+" 0",
		"vqlq_queue_backlog_events"+acme+" 0",

		"vqlq_queue_events_sent_total"+idle+" 0",
		"vqlq_queue_watchers"+idle+" 0",
	)
	// The Go and process collectors are there too.
	for _, prefix := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_cpu_seconds_total ", "process_resident_memory_bytes "} {
		found := false
		for l := range lines {
			found = found || strings.HasPrefix(l, prefix)
		}
		if !found {
			t.Errorf("no %s sample", strings.TrimSpace(prefix))
		}
	}

	// Each scrape reads the queues afresh.
	debugTestSend(t, m, "root", debugTestQueue, 3, 4)
	pull()
	lines = metricsTestScrape(t, e, "metrics")
	metricsTestWant(t, lines,
		"vqlq_queue_events_sent_total"+recv+" 7",
		"vqlq_queue_events_delivered_total"+recv+" 2",
		"vqlq_queue_events_stored"+recv+" 7",
		"vqlq_queue_backlog_events"+recv+" 5",
	)
}
