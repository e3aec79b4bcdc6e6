package queues_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
)

// watchN reads n events of a named consumer with the given options, then
// stops the watch the way a consumer does when it is told to (its yield
// returns false while it holds the n-th).
func watchN(t *testing.T, m *queues.Manager, ctx context.Context, opts queues.WatchOptions, n int) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	seq, err := m.Watch(ctx, "root", "Server.Events.Receive", opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	if n == 0 {
		return got
	}
	for row := range seq {
		v, _ := row.Get(queues.SeqColumn)
		got = append(got, v.(int64))
		if len(got) == n {
			break
		}
	}
	return got
}

func sendN(t *testing.T, m *queues.Manager, n int) {
	t.Helper()
	for i := range n {
		if _, err := m.Send(context.Background(), "root", "Server.Events.Receive", ordereddict.NewDict().Set("i", int64(i)), queues.ServerSender); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConsumerIsRecordedWhereItJoins: a consumer that attaches before any
// event is sent, and goes away, gets every event sent meanwhile.
func TestConsumerIsRecordedWhereItJoins(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	sendN(t, e.m, 2) // before it joins: not for it
	ctx, cancel := context.WithCancel(context.Background())
	seq, err := e.m.Watch(ctx, "root", "Server.Events.Receive", queues.WatchOptions{Consumer: "fwd"})
	if err != nil {
		t.Fatal(err)
	}
	_ = seq // attached, never read
	cancel()
	if cs := e.m.Consumers("root"); len(cs) != 1 || cs[0].Name != "fwd" || cs[0].Position != 2 || cs[0].Lag != 0 || cs[0].Owner != "server" {
		t.Fatalf("consumers after attaching: %+v", cs)
	}
	sendN(t, e.m, 3)
	e.restart()
	if cs := e.m.Consumers("root"); len(cs) != 1 || cs[0].Lag != 3 {
		t.Fatalf("consumers after 3 sends: %+v", cs)
	}
	if got := watchN(t, e.m, context.Background(), queues.WatchOptions{Consumer: "fwd"}, 3); len(got) != 3 || got[0] != 3 || got[2] != 5 {
		t.Fatalf("resumed with %v, want [3 4 5]", got)
	}
}

// TestStopDoesNotAcknowledgeTheRowHeld: without an output that confirms
// it, the event a consumer was holding when it stopped comes again; with
// one, a consumer stopping by itself has used it. Every row carries _seq.
func TestStopDoesNotAcknowledgeTheRowHeld(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	sendN(t, e.m, 10)
	opts := queues.WatchOptions{Consumer: "fwd", StartTime: time.Unix(1, 0)}
	if got := watchN(t, e.m, context.Background(), opts, 3); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("first: %v", got)
	}
	if got := watchN(t, e.m, context.Background(), opts, 3); len(got) != 3 || got[0] != 3 {
		t.Fatalf("after a stop holding 3, got %v; want 3 again", got)
	}
	confirmed := queues.WithAckBarrier(context.Background(), func() error { return nil })
	if got := watchN(t, e.m, confirmed, opts, 2); len(got) != 2 || got[0] != 5 {
		t.Fatalf("third: %v", got)
	}
	if got := watchN(t, e.m, context.Background(), opts, 1); len(got) != 1 || got[0] != 7 {
		t.Fatalf("after a confirmed stop holding 6, got %v; want 7", got)
	}
	// An output that failed acknowledges nothing.
	failed := queues.WithAckBarrier(context.Background(), func() error { return errors.New("broken pipe") })
	if got := watchN(t, e.m, failed, opts, 3); len(got) != 1 || got[0] != 7 {
		t.Fatalf("failing output: %v (it should stop at the first acknowledgement)", got)
	}
	if got := watchN(t, e.m, context.Background(), opts, 1); len(got) != 1 || got[0] != 7 {
		t.Fatalf("after a failed output, got %v; want 7", got)
	}
}

// TestClientAcknowledges: a ClientAck watcher never moves its consumer;
// Ack does, forward only, for the owner only; After acknowledges first.
func TestClientAcknowledges(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	sendN(t, e.m, 10)
	opts := queues.WatchOptions{Consumer: "http", StartTime: time.Unix(1, 0), ClientAck: true, Principal: "fwd"}
	if got := watchN(t, e.m, context.Background(), opts, 5); len(got) != 5 {
		t.Fatal(got)
	}
	if got := watchN(t, e.m, context.Background(), opts, 1); got[0] != 1 {
		t.Fatalf("a client that acknowledged nothing resumes at %v", got)
	}
	if _, err := e.m.Ack("root", "Server.Events.Receive", "http", "intruder", false, 9); !errors.Is(err, queues.ErrConsumerOwned) {
		t.Fatalf("intruder's ack: %v", err)
	}
	if _, err := e.m.Ack("root", "Server.Events.Receive", "http", "fwd", false, 11); !errors.Is(err, queues.ErrAckBeyondLast) {
		t.Fatalf("ack past the end: %v", err)
	}
	if _, err := e.m.Ack("root", "Server.Events.Receive", "nobody", "fwd", false, 1); !errors.Is(err, queues.ErrConsumerNotFound) {
		t.Fatalf("ack of an unknown consumer: %v", err)
	}
	if next, err := e.m.Ack("root", "Server.Events.Receive", "http", "fwd", false, 4); err != nil || next != 5 {
		t.Fatalf("ack 4: %d %v", next, err)
	}
	if next, _ := e.m.Ack("root", "Server.Events.Receive", "http", "fwd", false, 2); next != 5 {
		t.Fatalf("an older ack moved the position back to %d", next)
	}
	after := uint64(6)
	opts.After = &after
	if got := watchN(t, e.m, context.Background(), opts, 1); got[0] != 7 {
		t.Fatalf("after=6 resumed at %v", got)
	}
	cs := e.m.Consumers("root")
	if len(cs) != 1 || cs[0].Position != 6 || cs[0].Lag != 4 || cs[0].LastAck.IsZero() || cs[0].Owner != "fwd" {
		t.Fatalf("consumers: %+v", cs)
	}
	if err := e.m.DeleteConsumer("root", "Server.Events.Receive", "http", "intruder", false); !errors.Is(err, queues.ErrConsumerOwned) {
		t.Fatalf("intruder's delete: %v", err)
	}
	if err := e.m.DeleteConsumer("root", "Server.Events.Receive", "http", "fwd", false); err != nil {
		t.Fatal(err)
	}
	if cs := e.m.Consumers("root"); len(cs) != 0 {
		t.Fatalf("deleted consumer listed: %+v", cs)
	}
	// A consumer made again under that name starts where it joins.
	opts.After, opts.StartTime = nil, time.Time{}
	watchN(t, e.m, context.Background(), opts, 0)
	sendN(t, e.m, 1)
	if got := watchN(t, e.m, context.Background(), opts, 1); got[0] != 11 {
		t.Fatalf("re-created consumer started at %v", got)
	}
}

// TestExpiredUnreadEventsAreReported: a consumer whose unread events were
// removed by retention is told how many, and consumers() counts them.
func TestExpiredUnreadEventsAreReported(t *testing.T) {
	disk, err := queues.OpenBadger(t.TempDir(), queues.SyncFlush)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m, err := queues.New(queues.Options{Disk: disk, Retention: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	send := func(n int) {
		for i := range n {
			m.Send(ctx, "root", "Server.Audit.Logs", ordereddict.NewDict().Set("i", int64(i)), queues.Sender{Principal: "server", Internal: true})
		}
	}
	watch := func(opts queues.WatchOptions) {
		c, cancel := context.WithCancel(ctx)
		seq, err := m.Watch(c, "root", "Server.Audit.Logs", opts)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		for range seq {
		}
	}
	watch(queues.WatchOptions{Consumer: "late"})
	send(4)
	now = now.Add(2 * time.Hour)
	m.Retain(ctx)
	if cs := m.Consumers("root"); len(cs) != 1 || cs[0].Skipped != 4 || cs[0].Lag != 0 {
		t.Fatalf("consumers: %+v", cs)
	}
	var warned []string
	watch(queues.WatchOptions{Consumer: "late", OnSkip: func(n uint64) {
		warned = append(warned, strings.Repeat("x", int(n)))
	}})
	if len(warned) != 1 || len(warned[0]) != 4 {
		t.Fatalf("OnSkip calls: %v", warned)
	}
	if cs := m.Consumers("root"); len(cs) != 1 || cs[0].Skipped != 4 || cs[0].Position != 4 {
		t.Fatalf("consumers after resuming: %+v", cs)
	}
}

// TestConsumersInVQL: consumers() lists a consumer from its first attach,
// rows carry _seq, and consumer_delete forgets it.
func TestConsumersInVQL(t *testing.T) {
	e := newEnv(t, map[string]string{"r.yaml": receive})
	e.run("root", `SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) FROM range(end=3)`)
	rows, _ := e.run("root", `SELECT i, _seq FROM watch_monitoring(artifact='Server.Events.Receive', consumer='fwd', start_time=0) LIMIT 2`)
	if strings.Join(rows, " ") != `{"i":0,"_seq":1} {"i":1,"_seq":2}` {
		t.Fatalf("rows: %v", rows)
	}
	rows, _ = e.run("root", `SELECT queue, name, owner, position, lag, skipped, last_ack != NULL AS acked FROM consumers()`)
	if strings.Join(rows, " ") != `{"queue":"Server.Events.Receive","name":"fwd","owner":"server","position":2,"lag":1,"skipped":0,"acked":true}` {
		t.Fatalf("consumers(): %v", rows)
	}
	rows, logs := e.run("root", `SELECT consumer_delete(artifact='Server.Events.Receive', name='fwd') AS ok, consumer_delete(artifact='Server.Events.Receive', name='fwd') AS again FROM scope()`)
	if strings.Join(rows, " ") != `{"ok":true,"again":false}` || !strings.Contains(strings.Join(logs, "\n"), `consumer "fwd" of Server.Events.Receive: no such consumer`) {
		t.Fatalf("consumer_delete: %v %v", rows, logs)
	}
	if rows, _ := e.run("root", `SELECT * FROM consumers()`); len(rows) != 0 {
		t.Fatalf("after delete: %v", rows)
	}
}

// TestDetachedConsumerIsRefusedInAnyQuery: behind a stage that hands its
// rows on from another goroutine or a buffer, the stage would ask for the
// next event while the row is still on its way to the output, so the
// consumer would be acknowledged for rows nobody has yet: the watch is
// refused before the consumer is created, in a plain query as in a
// forwarder's. The same watch read directly is accepted.
func TestDetachedConsumerIsRefusedInAnyQuery(t *testing.T) {
	watch := `{SELECT * FROM watch_monitoring(artifact='Server.Events.Receive', consumer='c', start_time=0)}`
	cases := []struct {
		query   string
		refused bool
	}{
		{`SELECT i FROM chain(async=TRUE, a=` + watch + `) LIMIT 1`, true},
		{`SELECT * FROM foreach(row=` + watch + `, query={SELECT i FROM scope()}, workers=2) LIMIT 1`, true},
		{`SELECT * FROM batch(batch_size=1, query=` + watch + `) LIMIT 1`, true},
		{`SELECT i FROM delay(delay=0.01, query=` + watch + `) LIMIT 1`, true},
		{`SELECT * FROM foreach(row=` + watch + `, query={SELECT i FROM scope()}) LIMIT 1`, false},
		{`SELECT i FROM chain(a=` + watch + `) LIMIT 1`, false},
	}
	for _, tc := range cases {
		e := newEnv(t, map[string]string{"r.yaml": receive})
		e.run("root", `SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) FROM range(end=3)`)
		rows, logs := e.run("root", tc.query)
		refusal := strings.Contains(strings.Join(logs, "\n"), `consumer "c" of Server.Events.Receive: `+queues.ErrDetachedConsumer.Error())
		consumers, _ := e.run("root", `SELECT name, position FROM consumers()`)
		if tc.refused {
			if !refusal || len(rows) != 0 || len(consumers) != 0 {
				t.Errorf("%s: rows %v, logs %v, consumers %v: want refused, no consumer", tc.query, rows, logs, consumers)
			}
			continue
		}
		if refusal || len(rows) != 1 || strings.Join(consumers, " ") != `{"name":"c","position":1}` {
			t.Errorf("%s: rows %v, logs %v, consumers %v: want one row, the consumer at 1", tc.query, rows, logs, consumers)
		}
	}
}
