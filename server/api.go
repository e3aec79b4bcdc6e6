package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/source"
	"github.com/vqlq/vqlq/vql/value"
)

// permitted refuses, with 403 and an audit row, a caller lacking the
// permission an endpoint needs: the message names the token, its role,
// the permission and what it may not do.
func (s *Server) permitted(w http.ResponseWriter, r *http.Request, c *caller, p vql.Permission, what string) bool {
	if c.has(p) {
		return true
	}
	s.refuse(w, r, c, http.StatusForbidden, "token %s (%s) lacks %s: it may not %s", c.principal(), c.role(), p, what)
	return false
}

// handleSend stores one JSON object, or NDJSON of many, in a SERVER_EVENT
// queue, and answers with the stamped rows once they are durable. Every row
// is checked before any is stored.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, c *caller) {
	queue := r.PathValue("artifact")
	if !c.local && !c.token.mayPublish(queue) {
		s.refuse(w, r, c, http.StatusForbidden, "token %s (%s) may not send to %s", c.token.Name, c.token.Role, queue)
		return
	}
	if !s.beginSend() {
		s.refuse(w, r, c, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	defer s.inflight.Done()
	rows, berr := s.readRows(w, r)
	if berr != nil {
		s.refuseAs(w, r, c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	if _, err := s.opts.Manager.CheckSend(c.org, queue, queues.Sender{Principal: c.identity().Principal}); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, queues.ErrUnknownQueue) {
			status = http.StatusNotFound
		}
		s.refuse(w, r, c, status, "%v", err)
		return
	}
	// The rows go in even if the client hangs up now: it may retry, but
	// what is acknowledged below is stored.
	stamped, err := s.opts.Manager.SendMany(context.WithoutCancel(r.Context()), c.org, queue, rows, queues.Sender{Principal: c.identity().Principal})
	if err != nil {
		s.refuse(w, r, c, sendStatus(err), "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	bw := bufio.NewWriter(w)
	for _, row := range stamped {
		b, _ := value.EncodeJSON(row)
		bw.Write(b)
		bw.WriteByte('\n')
	}
	bw.Flush()
}

// sendStatus maps a failed send: a full disk is 507 Insufficient Storage
// (nothing was stored; retry once space is freed).
func sendStatus(err error) int {
	if errors.Is(err, queues.ErrDiskFull) {
		return http.StatusInsufficientStorage
	}
	return http.StatusBadRequest
}

// streamWriter writes NDJSON or Server-Sent Events, flushing each message
// — or, for a query's stream (lazy), within flushDelay of the first
// message not yet flushed.
type streamWriter struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	rc  *http.ResponseController
	sse bool
	// last is when something was last written (for keepAlive).
	last time.Time
	// closed is set when the handler is done with the stream: nothing may
	// write to the ResponseWriter after it returns.
	closed bool
	// lazy defers flushes: a query yields its rows one by one, and a
	// flush (a system call) per row is what thousands of API queries
	// watching one queue pay for every event. pending says a flush is due.
	lazy, pending bool
	// sends, when set, are the pipelined send_event() calls of the query
	// the stream answers: its messages are held (held) until the sends
	// started before them are stored, so that a row the client reads
	// still means its event is stored. failed is the first send that was
	// not: the stream then says so and ends.
	sends  *queues.Sends
	held   []byte
	failed error
}

// heldMax bounds what a stream holds while its query's sends are stored.
const heldMax = 64 << 10

// flushDelay bounds how long a lazy stream's message waits to be flushed.
const flushDelay = time.Millisecond

// close flushes what is pending and ends the stream's keep-alives; the
// handler calls it before it returns.
func (sw *streamWriter) close() {
	sw.mu.Lock()
	if sw.sends != nil && !sw.closed {
		_ = sw.release()
	} else if sw.pending {
		_ = sw.rc.Flush()
	}
	sw.pending = false
	sw.closed = true
	sw.mu.Unlock()
}

// flushNow flushes what a lazy stream holds: before a consumer in the query
// acknowledges, the rows it produced must be on the connection (and the
// events it sent stored).
func (sw *streamWriter) flushNow() error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.closed {
		return sw.failed
	}
	if sw.sends != nil {
		sw.pending = false
		return sw.release()
	}
	if !sw.pending {
		return nil
	}
	sw.pending = false
	return sw.rc.Flush()
}

// release waits for the query's sends, then writes and flushes what the
// stream holds. If a send failed, what is held is dropped (those rows'
// events may not be stored) and the client is told why instead. Callers
// hold sw.mu.
func (sw *streamWriter) release() error {
	if sw.failed != nil {
		return sw.failed
	}
	if err := sw.sends.WaitAll(); err != nil {
		sw.held = sw.held[:0]
		sw.failed = err
		b, _ := value.EncodeJSON(ordereddict.NewDict().Set("type", "log").Set("level", vql.LevelError).
			Set("message", err.Error()+" (the query stopped: its later rows are not sent, and their events may not be stored)").
			Set("time", time.Now().UTC()))
		_, _ = sw.w.Write(sw.appendMessage(nil, b, 0))
		_ = sw.rc.Flush()
		return err
	}
	if len(sw.held) > 0 {
		_, err := sw.w.Write(sw.held)
		sw.held = sw.held[:0]
		if err != nil {
			return err
		}
	}
	return sw.rc.Flush()
}

func (s *Server) newStream(w http.ResponseWriter, r *http.Request) *streamWriter {
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), sse: strings.Contains(r.Header.Get("Accept"), "text/event-stream")}
	if sw.sse {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.WriteHeader(http.StatusOK)
	_ = sw.rc.Flush()
	if sw.sse {
		go sw.keepAlive(r.Context(), s.opts.KeepAlive)
	}
	return sw
}

// keepAlive writes an SSE comment whenever the stream has been silent
// for every, until ctx (the request) ends: an idle watch is not cut by a
// proxy for sending nothing. Clients ignore comment lines.
func (sw *streamWriter) keepAlive(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sw.mu.Lock()
		if sw.closed {
			sw.mu.Unlock()
			return
		}
		if time.Since(sw.last) >= every/2 {
			if _, err := io.WriteString(sw.w, ": keepalive\n\n"); err != nil || sw.rc.Flush() != nil {
				sw.mu.Unlock()
				return
			}
			sw.last = time.Now()
		}
		sw.mu.Unlock()
	}
}

func (sw *streamWriter) send(v any) error { return sw.sendID(v, 0) }

// sendID sends a message; an SSE message gets `id: <id>` when id is not 0
// (a named consumer's events, so that Last-Event-ID resumes after it).
func (sw *streamWriter) sendID(v any, id int64) error {
	b, err := value.EncodeJSON(v)
	if err != nil {
		return err
	}
	return sw.write(sw.appendMessage(nil, b, id))
}

// appendMessage frames one message (JSON) for the stream.
func (sw *streamWriter) appendMessage(buf, b []byte, id int64) []byte {
	return sw.appendTail(append(sw.appendHead(buf, id), b...))
}

func (sw *streamWriter) appendHead(buf []byte, id int64) []byte {
	switch {
	case sw.sse && id != 0:
		buf = append(buf, "id: "...)
		buf = strconv.AppendInt(buf, id, 10)
		return append(buf, "\ndata: "...)
	case sw.sse:
		return append(buf, "data: "...)
	}
	return buf
}

func (sw *streamWriter) appendTail(buf []byte) []byte {
	if sw.sse {
		return append(buf, "\n\n"...)
	}
	return append(buf, '\n')
}

// appendEvent frames a stored event: its bytes as they are, with, for a
// named consumer, its position added as the last column, _seq (and as the
// SSE id).
func (sw *streamWriter) appendEvent(buf []byte, ev queues.Event, withSeq bool) []byte {
	if !withSeq {
		// Every SSE event has its id, so that an EventSource that
		// reconnects (Last-Event-ID) resumes after it.
		return sw.appendMessage(buf, ev.Data, int64(ev.Seq))
	}
	b := ev.Data
	n := len(b)
	if n < 2 || b[0] != '{' || b[n-1] != '}' || bytes.Contains(b, seqKey) {
		// A row that has a column of that name already (or is not an
		// object): decode it, as a VQL watcher would.
		row := queues.DecodeRow(b)
		row.Set(queues.SeqColumn, int64(ev.Seq))
		b, _ = value.EncodeJSON(row)
		return sw.appendMessage(buf, b, int64(ev.Seq))
	}
	buf = append(sw.appendHead(buf, int64(ev.Seq)), b[:n-1]...)
	if n > 2 {
		buf = append(buf, ',')
	}
	buf = append(buf, seqKey...)
	buf = append(buf, ':')
	buf = strconv.AppendUint(buf, ev.Seq, 10)
	return sw.appendTail(append(buf, '}'))
}

var seqKey = []byte(`"` + queues.SeqColumn + `"`)

// write sends framed messages and flushes them.
func (sw *streamWriter) write(b []byte) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.sends != nil {
		return sw.hold(b)
	}
	_, err := sw.w.Write(b)
	sw.last = time.Now()
	switch {
	case err != nil:
	case !sw.lazy:
		err = sw.rc.Flush()
	case !sw.pending:
		sw.pending = true
		time.AfterFunc(flushDelay, func() { _ = sw.flushNow() })
	}
	return err
}

// hold keeps messages until the query's sends before them are stored
// (see release), which happens within flushDelay, or at once when the
// stream holds heldMax. Callers hold sw.mu.
func (sw *streamWriter) hold(b []byte) error {
	if sw.failed != nil {
		return sw.failed
	}
	if sw.closed {
		return errClientGone
	}
	sw.held = append(sw.held, b...)
	sw.last = time.Now()
	if len(sw.held) >= heldMax {
		sw.pending = false
		return sw.release()
	}
	if !sw.pending {
		sw.pending = true
		time.AfterFunc(flushDelay, func() { _ = sw.flushNow() })
	}
	return nil
}

// requestContext is the context of a long-running request (a watch, a
// query): it ends when the client goes away, the server shuts down, or its
// token is revoked or expires (the cause is then ErrTokenRevoked or
// ErrTokenExpired).
func (s *Server) requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancelCause := context.WithCancelCause(r.Context())
	cancel := func() { cancelCause(context.Canceled) }
	untrack := s.track(r, cancelCause)
	go func() {
		defer untrack()
		select {
		case <-s.draining:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// handleWatch streams a queue until the client goes away. A named
// consumer's position moves only when the client acknowledges: every row
// carries its position (`_seq`, and `id:` in SSE); `after=SEQ`,
// `last_event_id=SEQ` or the `Last-Event-ID` header acknowledges up to SEQ
// and resumes after it, and POST …/consumers/{artifact}/{name}/ack moves
// it while the stream runs.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, c *caller) {
	queue := r.PathValue("artifact")
	if !s.permitted(w, r, c, vql.PermReadResults, "watch") {
		return
	}
	id := c.identity()
	q := r.URL.Query()
	opts := queues.WatchOptions{Consumer: q.Get("consumer"), ClientAck: true,
		Principal: id.Principal, Override: id.All,
		Describe: fmt.Sprintf("HTTP watch by %s from %s", c.principal(), r.RemoteAddr)}
	if st := q.Get("start_time"); st != "" {
		t, err := value.ParseTime(st)
		if err != nil {
			s.refuse(w, r, c, http.StatusBadRequest, "start_time: %v", err)
			return
		}
		opts.StartTime = t
	}
	for _, after := range []struct{ name, v string }{{"after", q.Get("after")}, {"last_event_id", q.Get("last_event_id")}, {"Last-Event-ID", r.Header.Get("Last-Event-ID")}} {
		if after.v == "" {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(after.v), 10, 64)
		if err != nil {
			s.refuse(w, r, c, http.StatusBadRequest, "%s: %q is not an event's _seq", after.name, after.v)
			return
		}
		if opts.After == nil || n > *opts.After {
			opts.After = &n
		}
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	batches, err := s.opts.Manager.WatchEvents(ctx, c.org, queue, opts)
	if err != nil {
		s.refuse(w, r, c, consumerStatus(err), "%v", err)
		return
	}
	sw := s.newStream(w, r)
	defer sw.close()
	var buf []byte
	for evs := range batches {
		// The stored bytes go out as they are, every event of a batch in
		// one write.
		buf = buf[:0]
		for _, ev := range evs {
			buf = sw.appendEvent(buf, ev, opts.Consumer != "")
		}
		if sw.write(buf) != nil {
			return
		}
	}
}

// consumerStatus is the HTTP status of a queue or consumer error.
func consumerStatus(err error) int {
	switch {
	case errors.Is(err, queues.ErrConsumerOwned):
		return http.StatusForbidden
	case errors.Is(err, queues.ErrTooManyConsumers):
		return http.StatusConflict
	case errors.Is(err, queues.ErrConsumerNotFound), errors.Is(err, queues.ErrUnknownQueue):
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// ConsumerRow is one named consumer as GET /consumers lists it.
type ConsumerRow struct {
	Queue string `json:"queue"`
	Name  string `json:"name"`
	Owner string `json:"owner"`
	// Position is the last acknowledged _seq (0: none).
	Position uint64     `json:"position"`
	Lag      uint64     `json:"lag"`
	LastAck  *time.Time `json:"last_ack"`
	Skipped  uint64     `json:"skipped"`
	Created  time.Time  `json:"created"`
}

func consumerRows(list []queues.ConsumerInfo) []ConsumerRow {
	out := []ConsumerRow{}
	for _, ci := range list {
		row := ConsumerRow{Queue: ci.Queue, Name: ci.Name, Owner: ci.Owner, Position: ci.Position,
			Lag: ci.Lag, Skipped: ci.Skipped, Created: ci.Created}
		if !ci.LastAck.IsZero() {
			t := ci.LastAck
			row.LastAck = &t
		}
		out = append(out, row)
	}
	return out
}

func (s *Server) handleConsumers(w http.ResponseWriter, r *http.Request, c *caller) {
	if !s.permitted(w, r, c, vql.PermReadResults, "list consumers") {
		return
	}
	writeJSON(w, http.StatusOK, consumerRows(s.opts.Manager.Consumers(c.org)))
}

// consumerPath splits the rest of a /consumers/ path into the queue (which
// may hold '/': Artifact/Source) and the consumer's name, its last
// segment; with ack, the path must end in /ack. It reads the escaped path,
// so a name with a '/' is given as %2F.
func consumerPath(r *http.Request, ack bool) (queue, name string, ok bool) {
	p := r.URL.EscapedPath()
	i := strings.Index(p, "/consumers/")
	if i < 0 {
		return "", "", false
	}
	segs := strings.Split(p[i+len("/consumers/"):], "/")
	if ack {
		if len(segs) < 3 || segs[len(segs)-1] != "ack" {
			return "", "", false
		}
		segs = segs[:len(segs)-1]
	}
	if len(segs) < 2 {
		return "", "", false
	}
	name, err := url.PathUnescape(segs[len(segs)-1])
	if err != nil || name == "" {
		return "", "", false
	}
	queue, err = url.PathUnescape(strings.Join(segs[:len(segs)-1], "/"))
	if err != nil || queue == "" {
		return "", "", false
	}
	return queue, name, true
}

// handleAck acknowledges, for a named consumer, every event up to
// {"seq": N}; it answers with the consumer's position.
func (s *Server) handleAck(w http.ResponseWriter, r *http.Request, c *caller) {
	queue, name, ok := consumerPath(r, true)
	if !ok {
		s.refuse(w, r, c, http.StatusNotFound, "not found: use POST /api/v1/orgs/{org}/consumers/{artifact}/{name}/ack")
		return
	}
	if !s.permitted(w, r, c, vql.PermReadResults, "consume") {
		return
	}
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	var req struct {
		Seq *uint64 `json:"seq"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Seq == nil {
		s.refuse(w, r, c, http.StatusBadRequest, `the body is {"seq": N}, the _seq of the last event used`)
		return
	}
	id := c.identity()
	next, err := s.opts.Manager.Ack(c.org, queue, name, id.Principal, id.All, *req.Seq)
	if err != nil {
		s.refuse(w, r, c, consumerStatus(err), "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue": queue, "name": name, "position": next - 1})
}

// handleDeleteConsumer forgets a named consumer (its owner, or an admin).
func (s *Server) handleDeleteConsumer(w http.ResponseWriter, r *http.Request, c *caller) {
	queue, name, ok := consumerPath(r, false)
	if !ok {
		s.refuse(w, r, c, http.StatusNotFound, "not found: use DELETE /api/v1/orgs/{org}/consumers/{artifact}/{name}")
		return
	}
	if !s.permitted(w, r, c, vql.PermReadResults, "consume") {
		return
	}
	id := c.identity()
	if err := s.opts.Manager.DeleteConsumer(c.org, queue, name, id.Principal, id.All); err != nil {
		s.refuse(w, r, c, consumerStatus(err), "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue": queue, "name": name, "deleted": true})
}

// QueryRequest is the body of POST /query (or the body is the VQL text
// itself).
type QueryRequest struct {
	Query string `json:"query"`
	// Session keeps LETs between requests of one attached client.
	Session string `json:"session,omitempty"`
	// Confirm (with a Session) makes a consumer in the query wait, before
	// it acknowledges, until the client confirms that its output has the
	// rows (see confirm.go): for clients with output of their own behind
	// the connection.
	Confirm bool `json:"confirm,omitempty"`
	// Deny are permissions the statement's session must not use, on top
	// of what the caller lacks (an attached `vqlq query --deny`): a
	// request can narrow its rights, never widen them.
	Deny []string `json:"deny,omitempty"`
	// Resume (with a Session) asks for a session the client has used
	// before: if this server does not have it (it restarted), the answer
	// is 410 Gone instead of a fresh session, so that the client can
	// replay its LETs rather than lose them silently.
	Resume bool `json:"resume,omitempty"`
}

// handleQuery runs VQL and streams, as NDJSON, one message per event of
// the run: {"type":"begin","statement":i} and {"type":"end",…} around the
// rows of each SELECT, {"type":"row","statement":i,"row":{…}} and
// {"type":"log","level":…,"message":…}. A parse error is a 400 before
// anything runs.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, c *caller) {
	if !s.permitted(w, r, c, vql.PermAnyQuery, "query") {
		return
	}
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	req := QueryRequest{Query: string(body)}
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		if err := json.Unmarshal(t, &req); err != nil {
			s.refuse(w, r, c, http.StatusBadRequest, "malformed JSON: %v", err)
			return
		}
	}
	prog, err := parser.Parse(req.Query, "")
	if err != nil {
		s.refuseProgram(w, r, c, err)
		return
	}
	deny, err := vql.ParsePermissions(req.Deny)
	if err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "deny: %v", err)
		return
	}
	if req.Resume && req.Session != "" && !s.hasSession(c, req.Session) {
		s.refuse(w, r, c, http.StatusGone, "session %s is not on this server (it restarted, or the session was idle too long)", req.Session)
		return
	}
	// The stream starts (200) only once the check passed; nothing logs
	// before then.
	var sw *streamWriter
	logf := func(m vql.Message) {
		_ = sw.send(ordereddict.NewDict().Set("type", "log").Set("level", m.Level).Set("message", m.Text).Set("time", m.Time.UTC()))
	}
	defer s.queries.begin()()
	rs := s.session(c, req.Session, logf)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if req.Session == "" { // a session of this request only
		defer rs.session.Close()
	}
	// The check sees the session's earlier LETs; a problem runs nothing.
	if err := rs.session.Check(prog); err != nil {
		s.refuseProgram(w, r, c, err)
		return
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	sw = s.newStream(w, r)
	sw.lazy = true
	sw.sends = &queues.Sends{}
	ctx = queues.WithSends(ctx, sw.sends)
	defer sw.close()
	defer s.failWritesWhenDone(ctx, sw)()
	rs.logs = logf
	// The folder's owner may switch orgs (.org in an attached REPL) and
	// keep its LETs; a token's session is in its own org, always.
	id := c.identity()
	id.Denied = append(slices.Clone(id.Denied), deny...)
	rs.session.SetIdentity(id)
	// A consumer in the query acknowledges an event once the rows made
	// so far are written to the connection (each send flushes): the
	// barrier fails after a send failed.
	// A confirming client (req.Confirm) must also say that its own output
	// has them.
	var sendFailed atomic.Bool
	var sent atomic.Int64
	var cf *confirmation
	if req.Confirm && req.Session != "" {
		cf = newConfirmation()
		rs.setRunning(cf)
		defer rs.setRunning(nil)
	}
	ctx = queues.WithAckBarrier(ctx, func() error {
		if sendFailed.Load() || sw.flushNow() != nil {
			return errClientGone
		}
		if cf != nil {
			return cf.barrier(ctx, sw, sent.Load())
		}
		return nil
	})
	for i, stmt := range prog.Statements {
		_, isSelect := stmt.(*ast.SelectStmt)
		if isSelect && sw.send(ordereddict.NewDict().Set("type", "begin").Set("statement", int64(i))) != nil {
			return
		}
		for row := range rs.session.RunStatement(ctx, stmt) {
			if sw.send(ordereddict.NewDict().Set("type", "row").Set("statement", int64(i)).Set("row", row)) != nil {
				sendFailed.Store(true)
				return
			}
			sent.Add(1)
		}
		if isSelect && sw.send(ordereddict.NewDict().Set("type", "end").Set("statement", int64(i))) != nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// refuseProgram answers a query that cannot run (a parse error, problems
// the check found) with 400: "error" is the whole message with the quoted
// lines, "line" and "column" the first problem's position, "problems"
// every problem's.
func (s *Server) refuseProgram(w http.ResponseWriter, r *http.Request, c *caller, err error) {
	var se *source.Error
	if !errors.As(err, &se) {
		s.refuse(w, r, c, http.StatusBadRequest, "%v", err)
		return
	}
	problems := []map[string]any{}
	var ce *vql.CheckError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			problems = append(problems, map[string]any{"line": p.Pos.Line, "column": p.Pos.Column, "message": p.Msg})
		}
	} else {
		problems = append(problems, map[string]any{"line": se.Pos.Line, "column": se.Pos.Column, "message": se.Msg})
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "status": 400, "line": se.Pos.Line, "column": se.Pos.Column,
		"incomplete": se.Incomplete, "problems": problems})
}

// failWritesWhenDone makes the stream's writes fail at once when ctx
// ends (client gone, shutdown, token revoked): a client that stops
// reading blocks the write of a row, and no context ends a blocked write.
// Call the returned func before the handler returns: if the deadline was
// set, it is set before the server writes the response's end, which
// then fails, so that the connection is closed instead of reused with a
// deadline in the past.
//
// When the server is shutting down, the client is told so first (see
// sayShuttingDown), within shutdownNotice: a client that reads gets the
// message, one that does not cannot delay the shutdown longer.
func (s *Server) failWritesWhenDone(ctx context.Context, sw *streamWriter) func() {
	set := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		if s.isDraining() {
			_ = sw.rc.SetWriteDeadline(time.Now().Add(shutdownNotice))
			s.sayShuttingDown(sw)
		}
		_ = sw.rc.SetWriteDeadline(time.Now())
		close(set)
	})
	return func() {
		if !stop() {
			<-set
		}
	}
}

// QueueRow is one queue as GET /queues lists it.
type QueueRow struct {
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Persisted bool       `json:"persisted"`
	Watchers  int        `json:"watchers"`
	Events    int64      `json:"events"`
	Delivered int64      `json:"delivered"`
	Stored    int64      `json:"stored"`
	Dropped   int64      `json:"dropped"`
	LastEvent *time.Time `json:"last_event"`
}

func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request, c *caller) {
	out := []QueueRow{}
	for _, q := range s.opts.Manager.Queues(c.org) {
		row := QueueRow{Name: q.Name, Type: q.Type, Persisted: q.Persisted, Watchers: q.Watchers,
			Events: q.Events, Delivered: q.Delivered, Stored: q.Stored, Dropped: q.Dropped}
		if !q.LastEvent.IsZero() {
			t := q.LastEvent
			row.LastEvent = &t
		}
		out = append(out, row)
	}
	writeJSON(w, http.StatusOK, out)
}
