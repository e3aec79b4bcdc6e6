package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStartTimeIsReadExactly: a start time given as an epoch in ms, µs or
// ns (as timestamp() reads them) replays only what was sent after it;
// before, a millisecond epoch overflowed and replayed the whole queue.
func TestStartTimeIsReadExactly(t *testing.T) {
	e := newQueueEnv(t)
	send := func(from, to int) {
		t.Helper()
		r := runVQLQ(t, "", e.args(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=_value)) AS s FROM range(start=`+strconv.Itoa(from)+`, end=`+strconv.Itoa(to)+`)`)...)
		if r.code != 0 {
			t.Fatalf("send: %+v", r)
		}
	}
	send(0, 3)
	between := time.Now()
	for !time.Now().After(between.Add(time.Millisecond)) {
		time.Sleep(time.Millisecond) // the next send is strictly after `between`, to the ms
	}
	send(3, 5)
	for _, tt := range []struct{ unit, epoch string }{
		{"ms", strconv.FormatInt(between.UnixMilli()+1, 10)},
		{"µs", strconv.FormatInt(between.UnixMicro()+1, 10)},
		{"ns", strconv.FormatInt(between.UnixNano()+1, 10)},
		{"RFC 3339", `'` + between.UTC().Format(time.RFC3339Nano) + `'`},
		{"timestamp() of ms", `timestamp(epoch=` + strconv.FormatInt(between.UnixMilli()+1, 10) + `)`},
	} {
		t.Run(tt.unit, func(t *testing.T) {
			r := runVQLQ(t, "", e.args(`SELECT i FROM source(artifact='Server.Events.Receive', start_time=`+tt.epoch+`)`)...)
			if r.code != 0 || r.stdout != "{\"i\":3}\n{\"i\":4}\n" {
				t.Errorf("start_time=%s: %+v", tt.epoch, r)
			}
		})
	}
}

// TestTimesOutOfRangeAreRefused: values that name no representable time or
// wait are an error that says so, not a replay of everything or an
// immediate return.
func TestTimesOutOfRangeAreRefused(t *testing.T) {
	e := newQueueEnv(t)
	if r := runVQLQ(t, "", e.args(`SELECT send_event(artifact='Server.Events.Receive', row=dict(i=1)) AS s FROM scope()`)...); r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	for _, tt := range []struct{ query, stderr string }{
		{`SELECT i FROM source(artifact='Server.Events.Receive', start_time=1e300)`,
			"source: start_time: epoch 1e+300 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent"},
		{`SELECT i FROM source(artifact='Server.Events.Receive', start_time='NaN')`,
			"source: start_time: epoch NaN: not a time vqlq can represent"},
		{`SELECT i FROM watch_monitoring(artifact='Server.Events.Receive', start_time='-Inf')`,
			"watch_monitoring: start_time: epoch -Inf: not a time vqlq can represent"},
		{`SELECT sleep(time=1e300) AS slept FROM scope()`,
			"sleep: 1e+300 seconds is out of range (at most 9223372037): not a duration vqlq can wait"},
		{`SELECT * FROM clock(period=1e300) LIMIT 1`,
			"clock: period must be a positive number of seconds, not 1e+300"},
		{`SELECT * FROM clock(start=1e300) LIMIT 1`,
			"clock: start: epoch 1e+300 is out of range"},
		{`SELECT timestamp(epoch=1e300) AS t FROM scope()`,
			"timestamp: epoch 1e+300 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent"},
	} {
		r := runVQLQ(t, "", e.args(tt.query)...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.stderr) || strings.Contains(r.stdout, `"i"`) {
			t.Errorf("%s: %+v", tt.query, r)
		}
	}
}
