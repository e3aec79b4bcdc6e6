package server_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWatchStartTimeIsExactOrRefused: over HTTP, start_time is read as
// the VQL plugins read it (epochs in s, ms, µs or ns; RFC 3339), and
// 1e300, NaN and Inf are a 400 that says why instead of a replay of
// the whole queue.
func TestWatchStartTimeIsExactOrRefused(t *testing.T) {
	e := newAPIEnv(t, 0)
	e.do("POST", send, "admin", `{"n":1}`)
	between := time.Now()
	for !time.Now().After(between.Add(time.Millisecond)) {
		time.Sleep(time.Millisecond)
	}
	e.do("POST", send, "admin", `{"n":2}`)
	for _, st := range []string{
		strconv.FormatInt(between.UnixMilli()+1, 10),
		strconv.FormatInt(between.UnixMicro()+1, 10),
		strconv.FormatInt(between.UnixNano()+1, 10),
		between.UTC().Format(time.RFC3339Nano),
	} {
		_, data := e.sseEvents("start_time="+url.QueryEscape(st), 1)
		if len(data) != 1 || !strings.HasPrefix(data[0], `{"n":2,`) {
			t.Errorf("start_time=%s: first event %v, want n=2", st, data)
		}
	}
	for _, tt := range []struct{ st, want string }{
		{"1e300", "start_time: epoch 1e+300 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent"},
		{"NaN", "start_time: epoch NaN: not a time vqlq can represent"},
		{"Inf", "start_time: epoch +Inf: not a time vqlq can represent"},
		{"-Inf", "start_time: epoch -Inf: not a time vqlq can represent"},
		{"soon", `start_time: cannot read \"soon\" as a time (use an epoch or RFC 3339)`},
	} {
		status, body := e.do("GET", send+"?start_time="+url.QueryEscape(tt.st), "reader", "")
		if status != 400 || !strings.Contains(body, tt.want) {
			t.Errorf("start_time=%s: %d %s", tt.st, status, body)
		}
	}
}
