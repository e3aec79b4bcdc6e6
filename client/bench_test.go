package client_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql/value"
)

// stamped emits a row every Period seconds carrying the time it was made,
// so a watcher on the server can tell how long the row took.
const stamped = `name: Test.Client.Stamped
type: CLIENT_EVENT
parameters:
  - name: Period
    type: float
    default: "0.01"
sources:
  - query: SELECT Time FROM clock(period=Period)
`

// BenchmarkRowToServerWatcher measures the whole path of a client's row:
// the source emits it, the client buffers it on disk (badger), sends it
// over HTTP on loopback, the server stores it (badger) and a
// watch_monitoring-style watcher on the server receives it. It reports
// the latency's p50 and p99 (Velociraptor's clients wait up to
// Frontend.client_event_max_wait, 100 s by default, before sending).
// light is 100 rows/s; busy 2,000 rows/s, where the client batches.
func BenchmarkRowToServerWatcher(b *testing.B) {
	for _, bc := range []struct{ name, period string }{{"light", "0.01"}, {"busy", "0.0005"}} {
		b.Run(bc.name, func(b *testing.B) { benchRowToWatcher(b, bc.period) })
	}
}

func benchRowToWatcher(b *testing.B, period string) {
	e := newEnv(b)
	if _, err := e.srv.M.SetArtifact(context.Background(), "root", stamped, "bench"); err != nil {
		b.Fatal(err)
	}
	e.table.set(`{"Period":"`+period+`"}`, "Test.Client.Stamped")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows, err := e.srv.M.Watch(ctx, "root", "Test.Client.Stamped", queues.WatchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	c, _ := e.newClient(b.TempDir(), e.enroll)
	start(b, c)
	var lat []time.Duration
	b.ResetTimer()
	for row := range rows {
		v, _ := row.Get("Time")
		made, err := value.ToTime(v)
		if err != nil {
			b.Fatalf("row %v: %v", row, err)
		}
		lat = append(lat, time.Since(made))
		if len(lat) == b.N {
			break
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
