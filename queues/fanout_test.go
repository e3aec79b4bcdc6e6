package queues_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
)

// Every one of many live watchers of a queue receives every event, once
// and in order, whether the events come in one group or one by one, on a
// disk queue or a memory one; and the queue's fan-out starts again for
// watchers that come after the last one left.
func TestManyWatchersReceiveEveryEvent(t *testing.T) {
	internal := queues.Sender{Principal: "server", Internal: true}
	cases := []struct {
		name     string
		queue    string
		from     queues.Sender
		watchers int
		events   int
		batch    int // events per send
		rounds   int // watchers come, receive everything, and go, this often
	}{
		{"disk, one group", "Server.Events.Receive", queues.ServerSender, 5000, 100, 100, 1},
		{"disk, one by one", "Server.Events.Receive", queues.ServerSender, 5000, 100, 1, 1},
		{"disk, more than a read batch", "Server.Events.Receive", queues.ServerSender, 500, 1000, 7, 1},
		{"memory, one by one", "Server.Internal.Ping", internal, 5000, 100, 1, 1},
		{"disk, watchers come back", "Server.Events.Receive", queues.ServerSender, 200, 50, 5, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, map[string]string{"r.yaml": receive})
			for round := range tc.rounds {
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				problems := make(chan string, tc.watchers)
				for w := range tc.watchers {
					seq, err := e.m.Watch(ctx, "root", tc.queue, queues.WatchOptions{})
					if err != nil {
						t.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						want := int64(0)
						for row := range seq {
							if got := must(row.Get("i")); got != want {
								problems <- fmt.Sprintf("round %d, watcher %d: event %d is %v", round, w, want, got)
								return
							}
							if want++; want == int64(tc.events) {
								return
							}
						}
						problems <- fmt.Sprintf("round %d, watcher %d: ended after %d events", round, w, want)
					}()
				}
				for i := 0; i < tc.events; i += tc.batch {
					rows := []any{}
					for j := i; j < min(i+tc.batch, tc.events); j++ {
						rows = append(rows, ordereddict.NewDict().Set("i", int64(j)))
					}
					if _, err := e.m.SendMany(ctx, "root", tc.queue, rows, tc.from); err != nil {
						t.Fatal(err)
					}
				}
				wg.Wait()
				cancel()
				close(problems)
				n := 0
				for p := range problems {
					if n++; n <= 5 {
						t.Error(p)
					}
				}
				if n > 0 {
					t.Fatalf("%d of %d watchers did not receive all %d events", n, tc.watchers, tc.events)
				}
			}
		})
	}
}

// A watcher whose reader stops reading (a query that waits, a client that
// does not read) holds up the other watchers of the queue only for a
// lease: they still receive every event.
func TestStuckWatcherDoesNotStopOthers(t *testing.T) {
	for _, kind := range []string{"rows", "raw"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, map[string]string{"r.yaml": receive})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stuck := make(chan struct{})
			defer close(stuck)
			// counts returns how many events a watcher of this kind gets;
			// each of the stuck ones blocks on its first.
			watch := func(block bool) <-chan int {
				got := make(chan int, 1)
				n := 0
				body := func() bool {
					if block {
						<-stuck
						return false
					}
					n++
					if n == 200 {
						got <- n
						return false
					}
					return true
				}
				if kind == "rows" {
					seq, err := e.m.Watch(ctx, "root", "Server.Events.Receive", queues.WatchOptions{})
					if err != nil {
						t.Fatal(err)
					}
					go func() {
						for range seq {
							if !body() {
								return
							}
						}
					}()
				} else {
					seq, err := e.m.WatchEvents(ctx, "root", "Server.Events.Receive", queues.WatchOptions{})
					if err != nil {
						t.Fatal(err)
					}
					go func() {
						for evs := range seq {
							for range evs {
								if !body() {
									return
								}
							}
						}
					}()
				}
				return got
			}
			// More stuck watchers than the gate has turns
			// (GOMAXPROCS-1).
			for range runtime.GOMAXPROCS(0) + 1 {
				watch(true)
			}
			var live []<-chan int
			for range 3 {
				live = append(live, watch(false))
			}
			for i := range 200 {
				if _, err := e.m.Send(ctx, "root", "Server.Events.Receive", ordereddict.NewDict().Set("i", int64(i)), queues.ServerSender); err != nil {
					t.Fatal(err)
				}
			}
			for w, got := range live {
				if n := <-got; n != 200 {
					t.Errorf("live watcher %d got %d events", w, n)
				}
			}
		})
	}
}
