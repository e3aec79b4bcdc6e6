package queues_test

import (
	"context"
	"fmt"
	"github.com/vqlq/vqlq/internal/bytesize"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

func benchEnv(b *testing.B, mode queues.SyncMode) *queues.Manager {
	return benchEnvWith(b, queues.BadgerOptions{Sync: mode})
}

func benchEnvWith(b *testing.B, o queues.BadgerOptions) *queues.Manager {
	dir := b.TempDir()
	defs := b.TempDir()
	os.WriteFile(filepath.Join(defs, "r.yaml"), []byte(receive), 0o644)
	disk, err := queues.OpenBadgerWith(filepath.Join(dir, "data"), o)
	if err != nil {
		b.Fatal(err)
	}
	m, err := queues.New(queues.Options{Disk: disk, Definitions: defs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkSendEventVQL sends events from one VQL query, one per row:
// SELECT send_event(…) FROM range(end=N).
func BenchmarkSendEventVQL(b *testing.B) {
	for _, mode := range []string{"flush", "none", "full"} {
		b.Run("sync="+mode, func(b *testing.B) {
			sm, _ := queues.ParseSyncMode(mode)
			m := benchEnv(b, sm)
			e := &env{m: m}
			provider := func() (*queues.Manager, error) { return m, nil }
			_ = provider
			const n = 20000
			prog, _ := parser.Parse(fmt.Sprintf(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value, host='web-1', msg='login failed')) AS s FROM range(end=%d)`, n), "")
			b.ResetTimer()
			for b.Loop() {
				s := e.engine().NewSession(vql.SessionOptions{Identity: owner("root"), OnLog: func(msg vql.Message) { b.Fatal(msg) }})
				for range s.Run(context.Background(), prog) {
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSendGo sends from Go: one event per call from 1 and from 16
// goroutines, and batches of 100.
func BenchmarkSendGo(b *testing.B) {
	row := ordereddict.NewDict().Set("host", "web-1").Set("msg", "login failed")
	for _, mode := range []string{"flush", "none", "full"} {
		sm, _ := queues.ParseSyncMode(mode)
		b.Run("sync="+mode+"/serial", func(b *testing.B) {
			benchSendSerial(b, benchEnv(b, sm), row)
		})
		b.Run("sync="+mode+"/parallel16", func(b *testing.B) {
			benchSendParallel(b, benchEnv(b, sm), row)
		})
		b.Run("sync="+mode+"/batch100", func(b *testing.B) {
			m := benchEnv(b, sm)
			rows := make([]any, 100)
			for i := range rows {
				rows[i] = row
			}
			for b.Loop() {
				if _, err := m.SendMany(context.Background(), "root", "Server.Events.Receive", rows, queues.ServerSender); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSendWatermark measures what the free-space watermark costs a
// send: without it (min-free=0) and with the default, one event per call
// from 1 and 16 goroutines.
func BenchmarkSendWatermark(b *testing.B) {
	row := ordereddict.NewDict().Set("host", "web-1").Set("msg", "login failed")
	for _, mode := range []string{"none", "flush"} {
		sm, _ := queues.ParseSyncMode(mode)
		for _, minFree := range []uint64{0, queues.DefaultMinFree} {
			name := fmt.Sprintf("sync=%s/min-free=%s", mode, strings.ReplaceAll(bytesize.Format(int64(minFree)), " ", ""))
			o := queues.BadgerOptions{Sync: sm, MinFree: minFree}
			b.Run(name+"/serial", func(b *testing.B) { benchSendSerial(b, benchEnvWith(b, o), row) })
			b.Run(name+"/parallel16", func(b *testing.B) { benchSendParallel(b, benchEnvWith(b, o), row) })
		}
	}
}

// benchSendSerial sends one event per call from one goroutine.
func benchSendSerial(b *testing.B, m *queues.Manager, row *ordereddict.Dict) {
	for b.Loop() {
		if _, err := m.Send(context.Background(), "root", "Server.Events.Receive", row, queues.ServerSender); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// benchSendParallel sends one event per call from 16 goroutines.
func benchSendParallel(b *testing.B, m *queues.Manager, row *ordereddict.Dict) {
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Send(context.Background(), "root", "Server.Events.Receive", row, queues.ServerSender); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDeliveryLatency sends at a fixed rate to a live watcher and
// reports the p50 and p99 of send-to-delivery time.
func BenchmarkDeliveryLatency(b *testing.B) {
	for _, rate := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			m := benchEnv(b, queues.SyncFlush)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := rate * 2 // two seconds of traffic per run
			for b.Loop() {
				seq, err := m.Watch(ctx, "root", "Server.Events.Receive", queues.WatchOptions{})
				if err != nil {
					b.Fatal(err)
				}
				got := make(chan time.Duration, n)
				go func() {
					i := 0
					for row := range seq {
						sent, _ := row.Get("sent")
						got <- time.Since(time.Unix(0, sent.(int64)))
						if i++; i == n {
							return
						}
					}
				}()
				interval := time.Second / time.Duration(rate)
				start := time.Now()
				for i := range n {
					if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
						time.Sleep(d)
					}
					m.Send(ctx, "root", "Server.Events.Receive", ordereddict.NewDict().Set("sent", time.Now().UnixNano()), queues.ServerSender)
				}
				lat := make([]time.Duration, 0, n)
				for range n {
					lat = append(lat, <-got)
				}
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(lat[n/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[n*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// BenchmarkPublishWithIdleWatchers times a 100-row publish to a queue that
// n live watchers follow, each publish starting with every watcher idle
// (caught up and waiting): the sender must not wait for the fan-out.
// batch sends the 100 rows in one SendMany (an NDJSON POST), serial one
// Send per row (send_event() in a query).
func BenchmarkPublishWithIdleWatchers(b *testing.B) {
	for _, n := range []int{0, 100, 1000, 5000} {
		for _, style := range []string{"batch", "serial"} {
			b.Run(fmt.Sprintf("watchers=%d/%s", n, style), func(b *testing.B) {
				m := benchEnv(b, queues.SyncFlush)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var got atomic.Int64
				for range n {
					seq, err := m.Watch(ctx, "root", "Server.Events.Receive", queues.WatchOptions{})
					if err != nil {
						b.Fatal(err)
					}
					go func() {
						for range seq {
							got.Add(1)
						}
					}()
				}
				row := ordereddict.NewDict().Set("host", "web-1").Set("msg", "login failed")
				rows := make([]any, 100)
				for i := range rows {
					rows[i] = row
				}
				want := int64(0)
				for b.Loop() {
					if style == "batch" {
						if _, err := m.SendMany(ctx, "root", "Server.Events.Receive", rows, queues.ServerSender); err != nil {
							b.Fatal(err)
						}
					} else {
						for range rows {
							if _, err := m.Send(ctx, "root", "Server.Events.Receive", row, queues.ServerSender); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.StopTimer()
					want += int64(n * len(rows))
					for got.Load() < want {
						runtime.Gosched()
					}
					b.StartTimer()
				}
			})
		}
	}
}
