package server

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vqlq/vqlq/queues"
)

// Limits on what a caller, above all one without a token, can make the
// server hold in memory or write to the data folder.
const (
	// DefaultMaxBody is the largest request body (--max-body): a send's
	// rows are held, undecoded, until every one is checked, so this bounds
	// what a refused send can cost.
	DefaultMaxBody = 16 << 20
	// DefaultMaxHeaderBytes bounds a request's line and headers; net/http
	// refuses a longer one with 431 before any handler runs.
	DefaultMaxHeaderBytes = 64 << 10
	// auditClip is how much of a client-supplied string (the path, a reason
	// that quotes the request, a token name) an audit row of a refusal
	// keeps.
	auditClip = 256
	// bodyReadTimeout bounds the time a send may take to upload its body.
	bodyReadTimeout = 5 * time.Minute
)

// clip cuts s to about n bytes (on a character boundary), saying how long
// it was.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + fmt.Sprintf("…[cut: %d bytes]", len(s))
}

// remoteKey is the remote address a refusal is counted against: the host
// part of r.RemoteAddr, and for IPv6 its /64, which one client usually
// holds whole.
func remoteKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return clip(host, 64)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// The reasons vqlq_http_refused_total counts refusals under: a fixed set,
// so the metric's labels stay few whatever the requests.
const (
	reasonMissingToken     = "missing_token"
	reasonInvalidToken     = "invalid_token"
	reasonUnknownOrg       = "unknown_org"
	reasonWrongOrg         = "wrong_org"
	reasonForbidden        = "forbidden"
	reasonNotFound         = "not_found"
	reasonBadRequest       = "bad_request"
	reasonConflict         = "conflict"
	reasonBodyTooLarge     = "body_too_large"
	reasonRowTooLarge      = "row_too_large"
	reasonShuttingDown     = "shutting_down"
	reasonHeaderTooLarge   = "header_too_large"
	reasonMalformedRequest = "malformed_request"
	reasonOther            = "other"
)

// reasonFor is the reason of a refusal that gives none but its status.
func reasonFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return reasonBadRequest
	case http.StatusForbidden:
		return reasonForbidden
	case http.StatusNotFound:
		return reasonNotFound
	case http.StatusConflict:
		return reasonConflict
	case http.StatusRequestEntityTooLarge:
		return reasonRowTooLarge
	case http.StatusServiceUnavailable:
		return reasonShuttingDown
	}
	return reasonOther
}

// AuditLimits bound the audit rows of refused requests. Each remote
// address may write Rate rows a second (Burst at once), all addresses
// together GlobalRate (GlobalBurst); a refusal over the rate is answered
// and counted (vqlq_http_refused_total, vqlq_audit_suppressed_total) but
// not recorded, and once per Interval one row per address says how many
// were suppressed, by status. Zero fields take the defaults.
type AuditLimits struct {
	Rate        float64       // default 10 rows/s per address
	Burst       int           // default 20
	GlobalRate  float64       // default 100 rows/s
	GlobalBurst int           // default 200
	Interval    time.Duration // default 10 s
	// Addresses is how many remote addresses are tracked at once (default
	// 10,000); further ones share one bucket, summarised as "untracked
	// addresses".
	Addresses int
	// Summaries is how many addresses get a summary row of their own per
	// interval (default 100); the rest share one row.
	Summaries int
}

func (l AuditLimits) withDefaults() AuditLimits {
	if l.Rate <= 0 {
		l.Rate = 10
	}
	if l.Burst <= 0 {
		l.Burst = 20
	}
	if l.GlobalRate <= 0 {
		l.GlobalRate = 100
	}
	if l.GlobalBurst <= 0 {
		l.GlobalBurst = 200
	}
	if l.Interval <= 0 {
		l.Interval = 10 * time.Second
	}
	if l.Addresses <= 0 {
		l.Addresses = 10000
	}
	if l.Summaries <= 0 {
		l.Summaries = 100
	}
	return l
}

// refusals counts refused requests and limits their audit rows.
type refusals struct {
	refused    *prometheus.CounterVec
	suppressed prometheus.Counter
	limiter    *auditLimiter
}

func newRefusals(m *queues.Manager, lim AuditLimits, now func() time.Time) *refusals {
	if now == nil {
		now = time.Now
	}
	r := &refusals{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vqlq_http_refused_total",
			Help: "HTTP requests refused, by status and reason (missing_token, invalid_token, header_too_large, body_too_large, …)."},
			[]string{"status", "reason"}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vqlq_audit_suppressed_total",
			Help: "Refusals not recorded in Server.Audit.Logs because their address was over the rate; they are summarised once per interval."}),
	}
	r.refused.WithLabelValues("401", reasonMissingToken)
	r.refused.WithLabelValues("401", reasonInvalidToken)
	r.limiter = &auditLimiter{lim: lim.withDefaults(), now: now, suppressedTotal: r.suppressed,
		addrs: map[string]*addrState{}, other: &addrState{}, since: now(),
		write: func(org string, details *ordereddict.Dict) {
			_ = m.Audit(context.Background(), org, "refused_suppressed", queues.ServerSender.Principal, details)
		}}
	return r
}

func (r *refusals) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.refused, r.suppressed}
}

// auditLimiter is a token bucket per remote address, and one for all.
type auditLimiter struct {
	lim             AuditLimits
	now             func() time.Time
	write           func(org string, details *ordereddict.Dict)
	suppressedTotal prometheus.Counter

	mu      sync.Mutex
	global  bucket
	addrs   map[string]*addrState
	other   *addrState // the addresses beyond lim.Addresses
	since   time.Time  // start of the interval being counted
	running bool       // the summary loop runs
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

type bucket struct {
	tokens float64
	last   time.Time
}

// refill brings the bucket to now; a new bucket is full.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if b.last.IsZero() {
		b.tokens, b.last = burst, now
		return
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(burst, b.tokens+el*rate)
		b.last = now
	}
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	b.refill(now, rate, burst)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

type addrState struct {
	bucket
	suppressed map[orgStatus]int64
}

type orgStatus struct {
	org    string
	status int
}

// allow reports whether a refusal from addr may be recorded in org's audit
// log; if not, it is counted for the interval's summary.
func (l *auditLimiter) allow(addr, org string, status int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	st := l.addrs[addr]
	if st == nil {
		if len(l.addrs) < l.lim.Addresses {
			st = &addrState{}
			l.addrs[addr] = st
		} else {
			st = l.other
		}
	}
	if st.take(now, l.lim.Rate, float64(l.lim.Burst)) && l.global.take(now, l.lim.GlobalRate, float64(l.lim.GlobalBurst)) {
		return true
	}
	if st.suppressed == nil {
		st.suppressed = map[orgStatus]int64{}
	}
	st.suppressed[orgStatus{org, status}]++
	l.suppressedTotal.Inc()
	if !l.running && !l.closed {
		l.running = true
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.loop(l.stop, l.done)
	}
	return false
}

func (l *auditLimiter) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(l.lim.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.flush()
		case <-stop:
			return
		}
	}
}

// close stops the summary loop and writes the last summaries.
func (l *auditLimiter) close() {
	l.mu.Lock()
	l.closed = true
	stop, done, running := l.stop, l.done, l.running
	l.running = false
	l.mu.Unlock()
	if running {
		close(stop)
		<-done
	}
	l.flush()
}

// untrackedAddresses is the remote of the bucket shared by the addresses
// beyond the table.
const untrackedAddresses = "untracked addresses"

// summary is one address's suppressed refusals in one org.
type summary struct {
	addr      string
	org       string
	addresses int
	total     int64
	byStatus  map[int]int64
}

// flush writes one audit row per address (and org) whose refusals were
// suppressed since the last flush, and forgets idle addresses.
func (l *auditLimiter) flush() {
	l.mu.Lock()
	now := l.now()
	since := l.since
	l.since = now
	var out []*summary
	collect := func(addr string, st *addrState) {
		byOrg := map[string]*summary{}
		for k, n := range st.suppressed {
			sm := byOrg[k.org]
			if sm == nil {
				sm = &summary{addr: addr, org: k.org, addresses: 1, byStatus: map[int]int64{}}
				byOrg[k.org] = sm
				out = append(out, sm)
			}
			sm.total += n
			sm.byStatus[k.status] += n
		}
		st.suppressed = nil
	}
	for addr, st := range l.addrs {
		collect(addr, st)
		st.refill(now, l.lim.Rate, float64(l.lim.Burst))
		if st.tokens >= float64(l.lim.Burst) {
			delete(l.addrs, addr) // idle: a new bucket would be the same
		}
	}
	collect(untrackedAddresses, l.other)
	l.mu.Unlock()

	sort.Slice(out, func(i, j int) bool {
		if out[i].total != out[j].total {
			return out[i].total > out[j].total
		}
		return out[i].addr < out[j].addr
	})
	rest := map[string]*summary{}
	var restOrgs []string
	for i, sm := range out {
		if i < l.lim.Summaries {
			l.writeSummary(sm, since, now)
			continue
		}
		r := rest[sm.org]
		if r == nil {
			r = &summary{addr: "other addresses", org: sm.org, byStatus: map[int]int64{}}
			rest[sm.org] = r
			restOrgs = append(restOrgs, sm.org)
		}
		r.addresses++
		r.total += sm.total
		for st, n := range sm.byStatus {
			r.byStatus[st] += n
		}
	}
	for _, org := range restOrgs {
		l.writeSummary(rest[org], since, now)
	}
}

func (l *auditLimiter) writeSummary(sm *summary, since, now time.Time) {
	statuses := ordereddict.NewDict()
	codes := make([]int, 0, len(sm.byStatus))
	for st := range sm.byStatus {
		codes = append(codes, st)
	}
	sort.Ints(codes)
	for _, st := range codes {
		statuses.Set(strconv.Itoa(st), sm.byStatus[st])
	}
	interval := now.Sub(since).Round(time.Second)
	d := ordereddict.NewDict().
		Set("message", fmt.Sprintf("%d refusals from %s suppressed in the last %s", sm.total, sm.addr, interval)).
		Set("remote", sm.addr).Set("suppressed", sm.total).Set("statuses", statuses)
	if sm.addresses > 1 {
		d.Set("addresses", int64(sm.addresses))
	}
	d.Set("since", since.UTC()).Set("until", now.UTC())
	l.write(sm.org, d)
}

// HTTPServer is the http.Server for the network listener, with the limits
// that protect the server from callers without a token: request line and
// headers within MaxHeaderBytes (431 otherwise, before any handler), 10 s
// to send them, idle connections closed after 2 minutes. Serve it on
// CountRefusals(listener) so that its own refusals are counted too.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// CountRefusals wraps a listener so that the requests net/http refuses by
// itself, before any handler runs (a request line and headers over
// MaxHeaderBytes: 431; a malformed request: 400), are counted in
// vqlq_http_refused_total and audited like the API's own refusals.
func (s *Server) CountRefusals(l net.Listener) net.Listener {
	return &refusalListener{Listener: l, s: s}
}

type refusalListener struct {
	net.Listener
	s *Server
}

func (l *refusalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &refusalConn{Conn: c, s: l.s}, nil
}

type refusalConn struct {
	net.Conn
	s *Server
}

func (c *refusalConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if status, ok := httpServerRefusal(p); ok {
		c.s.refusedByHTTPServer(c.RemoteAddr().String(), status)
	}
	return n, err
}

// CloseWrite lets net/http half-close the connection after a refusal, so
// the client can read it while still sending.
func (c *refusalConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// httpServerErrorHeaders follow the status line of the answers net/http
// writes by itself when it cannot read a request; a handler's answers
// always have a Date header, so never look like this.
const httpServerErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// httpServerRefusal recognises, in one write to a connection, an answer of
// net/http's own: the whole response in one write, the status line
// followed directly by httpServerErrorHeaders, and a short body.
func httpServerRefusal(p []byte) (int, bool) {
	const prefix = "HTTP/1.1 "
	if len(p) > 1024 || !bytes.HasPrefix(p, []byte(prefix)) {
		return 0, false
	}
	i := bytes.Index(p, []byte(httpServerErrorHeaders))
	if i < len(prefix)+3 || bytes.IndexByte(p[:i], '\n') >= 0 {
		return 0, false
	}
	status, err := strconv.Atoi(string(p[len(prefix) : len(prefix)+3]))
	if err != nil || status < 400 || status > 599 {
		return 0, false
	}
	return status, true
}

// refusedByHTTPServer counts and audits a request net/http refused.
func (s *Server) refusedByHTTPServer(remoteAddr string, status int) {
	reason, text := reasonMalformedRequest, "malformed request (refused by the HTTP server before routing)"
	if status == http.StatusRequestHeaderFieldsTooLarge {
		reason = reasonHeaderTooLarge
		text = fmt.Sprintf("request line and headers over the limit of %d bytes (refused by the HTTP server before routing)", s.opts.MaxHeaderBytes)
	}
	s.refusals.refused.WithLabelValues(strconv.Itoa(status), reason).Inc()
	addr := remoteKey(remoteAddr)
	if !s.refusals.limiter.allow(addr, queues.DefaultOrg, status) {
		return
	}
	_ = s.opts.Manager.Audit(context.Background(), queues.DefaultOrg, "refused", "anonymous", ordereddict.NewDict().
		Set("status", int64(status)).Set("reason", text).Set("remote", addr))
}

// refuseAs answers with a JSON error, counts the refusal and records it in
// Server.Audit.Logs, within the audit limits of the caller's address.
// Client-supplied strings are cut to auditClip bytes; bodies are never
// recorded. A caller without a valid token is recorded in the default
// org, a token's caller in the token's org, whatever org the URL names.
func (s *Server) refuseAs(w http.ResponseWriter, r *http.Request, c *caller, status int, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	writeJSON(w, status, apiError{Error: msg, Status: status})
	s.recordRefusal(r, c, status, reason, msg)
}

// recordRefusal counts and records a refusal as refuseAs does, for
// handlers that answer it themselves (the debug page's login form).
func (s *Server) recordRefusal(r *http.Request, c *caller, status int, reason, msg string) {
	s.refusals.refused.WithLabelValues(strconv.Itoa(status), reason).Inc()
	org, principal := queues.DefaultOrg, "anonymous"
	addr := "local"
	switch {
	case c != nil && c.local:
		principal = c.principal()
		if queues.CheckOrg(c.org) == nil && s.orgKnown(c.org) {
			org = c.org
		}
	case c != nil && c.token != nil:
		principal, org = c.principal(), c.token.Org
	}
	if c == nil || !c.local {
		addr = remoteKey(r.RemoteAddr)
		if !s.refusals.limiter.allow(addr, org, status) {
			return
		}
	}
	_ = s.opts.Manager.Audit(context.WithoutCancel(r.Context()), org, "refused", clip(principal, auditClip), ordereddict.NewDict().
		Set("method", clip(r.Method, 16)).Set("path", clip(r.URL.Path, auditClip)).Set("status", int64(status)).
		Set("reason", clip(msg, auditClip)).Set("remote", addr))
}
