package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/source"
	"github.com/vqlq/vqlq/vql/value"
)

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
		if strings.HasSuffix(err.Error(), "not known") {
			status = http.StatusNotFound
		}
		s.refuse(w, r, c, status, "%v", err)
		return
	}
	// The rows go in even if the client hangs up now: it may retry, but
	// what is acknowledged below is stored.
	stamped, err := s.opts.Manager.SendMany(context.WithoutCancel(r.Context()), c.org, queue, rows, queues.Sender{Principal: c.identity().Principal})
	if err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "%v", err)
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

// streamWriter writes NDJSON or Server-Sent Events, flushing each message.
type streamWriter struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	rc  *http.ResponseController
	sse bool
}

func newStream(w http.ResponseWriter, r *http.Request) *streamWriter {
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), sse: strings.Contains(r.Header.Get("Accept"), "text/event-stream")}
	if sw.sse {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.WriteHeader(http.StatusOK)
	_ = sw.rc.Flush()
	return sw
}

func (sw *streamWriter) send(v any) error {
	b, err := value.EncodeJSON(v)
	if err != nil {
		return err
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.sse {
		_, err = fmt.Fprintf(sw.w, "data: %s\n\n", b)
	} else {
		_, err = fmt.Fprintf(sw.w, "%s\n", b)
	}
	if err == nil {
		err = sw.rc.Flush()
	}
	return err
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

// handleWatch streams a queue until the client goes away.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, c *caller) {
	queue := r.PathValue("artifact")
	if c.role() == RolePublisher {
		s.refuse(w, r, c, http.StatusForbidden, "token %s is a publisher: it may send but not watch", c.principal())
		return
	}
	id := c.identity()
	opts := queues.WatchOptions{Consumer: r.URL.Query().Get("consumer"),
		Principal: id.Principal, Override: id.All,
		Describe: fmt.Sprintf("HTTP watch by %s from %s", c.principal(), r.RemoteAddr)}
	if st := r.URL.Query().Get("start_time"); st != "" {
		t, err := parseTime(st)
		if err != nil {
			s.refuse(w, r, c, http.StatusBadRequest, "start_time: %v", err)
			return
		}
		opts.StartTime = t
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	seq, err := s.opts.Manager.Watch(ctx, c.org, queue, opts)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, queues.ErrConsumerOwned):
			status = http.StatusForbidden
		case errors.Is(err, queues.ErrTooManyConsumers):
			status = http.StatusConflict
		case strings.Contains(err.Error(), "not known"):
			status = http.StatusNotFound
		}
		s.refuse(w, r, c, status, "%v", err)
		return
	}
	sw := newStream(w, r)
	for row := range seq {
		if sw.send(row) != nil {
			return
		}
	}
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	var sec float64
	if _, err := fmt.Sscanf(s, "%g", &sec); err == nil {
		return time.Unix(0, int64(sec*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (use epoch seconds or RFC 3339)", s)
}

// QueryRequest is the body of POST /query (or the body is the VQL text
// itself).
type QueryRequest struct {
	Query string `json:"query"`
	// Session keeps LETs between requests of one attached client.
	Session string `json:"session,omitempty"`
}

// handleQuery runs VQL and streams, as NDJSON, one message per event of
// the run: {"type":"begin","statement":i} and {"type":"end",…} around the
// rows of each SELECT, {"type":"row","statement":i,"row":{…}} and
// {"type":"log","level":…,"message":…}. A parse error is a 400 before
// anything runs.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, c *caller) {
	if c.role() == RolePublisher {
		s.refuse(w, r, c, http.StatusForbidden, "token %s is a publisher: it may send but not query", c.principal())
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
		var se *source.Error
		if errors.As(err, &se) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": se.Error(), "status": 400, "line": se.Pos.Line, "column": se.Pos.Column, "incomplete": se.Incomplete})
			return
		}
		s.refuse(w, r, c, http.StatusBadRequest, "%v", err)
		return
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	sw := newStream(w, r)
	logf := func(m vql.Message) {
		_ = sw.send(ordereddict.NewDict().Set("type", "log").Set("level", m.Level).Set("message", m.Text).Set("time", m.Time.UTC()))
	}
	rs := s.session(c, req.Session, logf)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.logs = logf
	// The folder's owner may switch orgs (.org in an attached REPL) and
	// keep its LETs; a token's session is in its own org, always.
	rs.session.SetIdentity(c.identity())
	for i, stmt := range prog.Statements {
		_, isSelect := stmt.(*ast.SelectStmt)
		if isSelect && sw.send(ordereddict.NewDict().Set("type", "begin").Set("statement", int64(i))) != nil {
			return
		}
		for row := range rs.session.RunStatement(ctx, stmt) {
			if sw.send(ordereddict.NewDict().Set("type", "row").Set("statement", int64(i)).Set("row", row)) != nil {
				return
			}
		}
		if isSelect && sw.send(ordereddict.NewDict().Set("type", "end").Set("statement", int64(i))) != nil {
			return
		}
		if ctx.Err() != nil {
			return
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
