package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vqlq/vqlq/queues"
)

// metricsHandler serves Prometheus metrics: for every queue of an org
// ("" for every org), the counters and gauges below (labels org, queue,
// type), read from the Manager at scrape time; with org "" also the Go
// runtime and process metrics, which are the whole server's. It uses its
// own registry, not the global one. The server mounts it at /metrics behind
// a bearer token (debugAuth.handleMetrics).
//
//	vqlq_queue_events_sent_total       counter  events sent since the server started
//	vqlq_queue_events_delivered_total  counter  rows handed to watchers since the server started
//	vqlq_queue_events_dropped_total    counter  events lost by watchers too slow for a memory queue
//	vqlq_queue_events_stored           gauge    events held by the store now
//	vqlq_queue_watchers                gauge    running watchers
//	vqlq_queue_backlog_events          gauge    events the slowest watcher has still to read
//
// With org "", the data folder's disk is described too (when the store
// watches its free space):
//
//	vqlq_disk_free_bytes            gauge    free space of the data folder's disk
//	vqlq_disk_min_free_bytes        gauge    the --min-free watermark
//	vqlq_disk_full                  gauge    1 while events are refused for want of space, else 0
//	vqlq_disk_refused_writes_total  counter  writes refused for want of space since the server started
//
// With org "", extra collectors are registered too: the Server passes its
// own (vqlq_http_refused_total, vqlq_audit_suppressed_total,
// vqlq_queries_running), which are the whole server's as well.
func metricsHandler(m *queues.Manager, org string, extra ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metricsCollector{m: m, org: org})
	if org == "" {
		reg.MustRegister(
			diskCollector{m: m},
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		reg.MustRegister(extra...)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

var metricsLabels = []string{"org", "queue", "type"}

var (
	metricsSent = prometheus.NewDesc("vqlq_queue_events_sent_total",
		"Events sent to the queue since the server started.", metricsLabels, nil)
	metricsDelivered = prometheus.NewDesc("vqlq_queue_events_delivered_total",
		"Rows handed to the queue's watchers since the server started.", metricsLabels, nil)
	metricsDropped = prometheus.NewDesc("vqlq_queue_events_dropped_total",
		"Events of the queue lost by watchers too slow for a memory (INTERNAL) queue, since the server started.", metricsLabels, nil)
	metricsStored = prometheus.NewDesc("vqlq_queue_events_stored",
		"Events of the queue held by its store now.", metricsLabels, nil)
	metricsWatchers = prometheus.NewDesc("vqlq_queue_watchers",
		"Running watchers of the queue.", metricsLabels, nil)
	metricsBacklog = prometheus.NewDesc("vqlq_queue_backlog_events",
		"Events the queue's slowest watcher has still to read.", metricsLabels, nil)
)

// metricsCollector reads every queue of an org ("": of every org) at each
// scrape.
type metricsCollector struct {
	m   *queues.Manager
	org string
}

func (c metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{metricsSent, metricsDelivered, metricsDropped, metricsStored, metricsWatchers, metricsBacklog} {
		ch <- d
	}
}

func (c metricsCollector) Collect(ch chan<- prometheus.Metric) {
	orgs := []string{c.org}
	if c.org == "" {
		orgs = c.m.Orgs()
	}
	for _, org := range orgs {
		for _, q := range c.m.Queues(org) {
			labels := []string{org, q.Name, q.Type}
			for _, s := range []struct {
				desc *prometheus.Desc
				kind prometheus.ValueType
				v    int64
			}{
				{metricsSent, prometheus.CounterValue, q.Events},
				{metricsDelivered, prometheus.CounterValue, q.Delivered},
				{metricsDropped, prometheus.CounterValue, q.Dropped},
				{metricsStored, prometheus.GaugeValue, q.Stored},
				{metricsWatchers, prometheus.GaugeValue, int64(q.Watchers)},
				{metricsBacklog, prometheus.GaugeValue, debugMaxBacklog(q)},
			} {
				ch <- prometheus.MustNewConstMetric(s.desc, s.kind, float64(s.v), labels...)
			}
		}
	}
}

var (
	metricsDiskFree = prometheus.NewDesc("vqlq_disk_free_bytes",
		"Free space of the data folder's disk, as last checked.", nil, nil)
	metricsDiskMinFree = prometheus.NewDesc("vqlq_disk_min_free_bytes",
		"The --min-free watermark: below it events are refused.", nil, nil)
	metricsDiskFull = prometheus.NewDesc("vqlq_disk_full",
		"1 while events are refused because the disk has less free space than --min-free, else 0.", nil, nil)
	metricsDiskRefused = prometheus.NewDesc("vqlq_disk_refused_writes_total",
		"Writes refused for want of disk space since the server started.", nil, nil)
)

// diskCollector reads the store's free-space state at each scrape.
type diskCollector struct{ m *queues.Manager }

func (c diskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{metricsDiskFree, metricsDiskMinFree, metricsDiskFull, metricsDiskRefused} {
		ch <- d
	}
}

func (c diskCollector) Collect(ch chan<- prometheus.Metric) {
	d, ok := c.m.DiskSpace()
	if !ok {
		return
	}
	full := 0.0
	if d.Full {
		full = 1
	}
	ch <- prometheus.MustNewConstMetric(metricsDiskFree, prometheus.GaugeValue, float64(d.Free))
	ch <- prometheus.MustNewConstMetric(metricsDiskMinFree, prometheus.GaugeValue, float64(d.MinFree))
	ch <- prometheus.MustNewConstMetric(metricsDiskFull, prometheus.GaugeValue, full)
	ch <- prometheus.MustNewConstMetric(metricsDiskRefused, prometheus.CounterValue, float64(d.Refused))
}
