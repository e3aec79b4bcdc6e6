package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// runningQueries counts the queries (POST …/query) running now, so that
// an operator sees a query outlive its client: vqlq_queries_running goes
// back down as soon as the client goes away or the server shuts down.
type runningQueries struct{ n atomic.Int64 }

// begin counts a query that starts; the func returned counts it out.
func (q *runningQueries) begin() func() {
	q.n.Add(1)
	return func() { q.n.Add(-1) }
}

// collector is the gauge, read at scrape time.
func (q *runningQueries) collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vqlq_queries_running",
		Help: "API queries running now (their statements have not returned)."},
		func() float64 { return float64(q.n.Load()) })
}
