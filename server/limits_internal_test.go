package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func newTestLimiter(lim AuditLimits, now *time.Time) (*auditLimiter, *[]*ordereddict.Dict, prometheus.Counter) {
	var rows []*ordereddict.Dict
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "t"})
	l := &auditLimiter{lim: lim.withDefaults(), now: func() time.Time { return *now }, suppressedTotal: c,
		addrs: map[string]*addrState{}, other: &addrState{}, since: *now,
		write: func(org string, d *ordereddict.Dict) { rows = append(rows, d.Set("org", org)) }}
	return l, &rows, c
}

// The limiter is a token bucket per address: the burst, then the rate.
func TestAuditLimiterRate(t *testing.T) {
	now := time.Unix(1e9, 0)
	l, rows, suppressed := newTestLimiter(AuditLimits{Rate: 2, Burst: 5}, &now)
	allowed := 0
	for range 100 {
		if l.allow("10.0.0.1", "root", 401) {
			allowed++
		}
	}
	now = now.Add(3 * time.Second) // 6 more, but no more than the burst
	for range 100 {
		if l.allow("10.0.0.1", "root", 401) {
			allowed++
		}
	}
	if !l.allow("10.0.0.2", "root", 401) {
		t.Error("another address shares the first one's bucket")
	}
	if allowed != 10 {
		t.Errorf("%d allowed, want 5 + 5", allowed)
	}
	l.close()
	if len(*rows) != 1 {
		t.Fatalf("summaries %v", *rows)
	}
	if v, _ := (*rows)[0].Get("message"); v != "190 refusals from 10.0.0.1 suppressed in the last 3s" {
		t.Errorf("message %q", v)
	}
	var m dto.Metric
	suppressed.Write(&m)
	if m.GetCounter().GetValue() != 190 {
		t.Errorf("suppressed counter %v", m.GetCounter().GetValue())
	}
	// After close, refusals are still counted, and no loop starts again.
	l.allow("10.0.0.1", "root", 401)
	if l.running {
		t.Error("the summary loop started after close")
	}
}

// Many addresses: the table stays within Addresses (the rest share the
// "other" bucket), a flush forgets idle addresses, and a flush writes at
// most Summaries rows of their own plus one per org for the rest.
func TestAuditLimiterIsBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	l, rows, _ := newTestLimiter(AuditLimits{Rate: 1, Burst: 1, GlobalRate: 1e9, GlobalBurst: 1e9, Addresses: 100, Summaries: 10}, &now)
	for i := range 20000 {
		addr := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		l.allow(addr, "root", 401)
		l.allow(addr, "root", 401) // over the burst of 1
	}
	if len(l.addrs) != 100 {
		t.Errorf("%d addresses tracked, want 100", len(l.addrs))
	}
	l.flush()
	if len(*rows) != 11 {
		t.Fatalf("%d summary rows, want 10 + 1", len(*rows))
	}
	total := int64(0)
	for _, r := range *rows {
		v, _ := r.Get("suppressed")
		total += v.(int64)
	}
	// 100 tracked addresses suppress 1 each; the 19,900 others share one
	// bucket, which allows 1 of their 39,800.
	first, last := (*rows)[0], (*rows)[10]
	if remote, _ := first.Get("remote"); remote != untrackedAddresses {
		t.Errorf("first row %v", first)
	}
	if remote, _ := last.Get("remote"); remote != "other addresses" || total != 100+39799 {
		t.Errorf("last row %v; %d suppressed in all, want %d", last, total, 100+39799)
	}
	now = now.Add(time.Minute) // every bucket full again: idle
	l.flush()
	if len(l.addrs) != 0 {
		t.Errorf("%d idle addresses kept", len(l.addrs))
	}
}

func TestRemoteKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5555":               "127.0.0.1",
		"[::ffff:10.1.2.3]:80":         "10.1.2.3",
		"[2001:db8:1:2:3:4:5:6]:443":   "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":     "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":             "fe80::/64",
		"@":                            "@",
		strings.Repeat("x", 1000):      strings.Repeat("x", 64) + "…[cut: 1000 bytes]",
		"not an address:" + "12345678": "not an address",
	} {
		if got := remoteKey(in); got != want {
			t.Errorf("remoteKey(%.40q) = %q, want %q", in, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	s := strings.Repeat("é", 300) // 600 bytes
	got := clip(s, 255)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…[cut: 600 bytes]") || len(got) > 255+len("…[cut: 600 bytes]") {
		t.Errorf("clip: %q", got)
	}
	if clip("short", 256) != "short" {
		t.Error("clip changed a short string")
	}
}

// Only net/http's own answers are recognised, never a handler's.
func TestHTTPServerRefusal(t *testing.T) {
	for in, want := range map[string]int{
		"HTTP/1.1 431 Request Header Fields Too Large" + httpServerErrorHeaders + "431 Request Header Fields Too Large":                     431,
		"HTTP/1.1 400 Bad Request" + httpServerErrorHeaders + "400 Bad Request":                                                             400,
		"HTTP/1.1 400 Bad Request: missing required Host header" + httpServerErrorHeaders + "400 Bad Request: missing required Host header": 400,
		"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nDate: Mon, 01 Jan 2025 00:00:00 GMT\r\nContent-Length: 2\r\n\r\n{}": 0,
		"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: x\r\n\r\n404":        0,
		"HTTP/1.1 200 OK\r\nX: 1" + httpServerErrorHeaders:                                                                                  0,
		"x HTTP/1.1 431" + httpServerErrorHeaders:                                                                                           0,
	} {
		if got, ok := httpServerRefusal([]byte(in)); got != want || ok != (want != 0) {
			t.Errorf("%.60q: %d %v, want %d", in, got, ok, want)
		}
	}
}
