package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/Velocidex/ordereddict"
)

// Confirmed queries.
//
// A consumer in a query (watch_monitoring(consumer=…)) acknowledges an
// event once the rows made so far have reached whoever uses them. Over a
// plain query request that is the connection: each row is flushed to it.
// An attached client (vqlq query, run or the REPL on a folder a server
// owns) has its own output behind the connection — a channel and a
// buffered terminal or pipe — so rows written to the socket are not yet
// delivered: killed then, the client would lose them. Such a client asks
// for confirmations ("confirm": true with a session): when a consumer is
// about to acknowledge, the stream carries
//
//	{"type":"confirm","id":"<query>","rows":N}
//
// and the consumer waits until the client posts, once its output has the
// first N rows of the request, POST /api/v1/orgs/{org}/query/confirm with
// {"session":…, "id":…, "rows":N}.

// confirmation is the state of one running query that asked for them.
type confirmation struct {
	id    string
	mu    sync.Mutex
	rows  int64         // rows the client confirmed
	nudge chan struct{} // signalled at each confirmation
}

// errClientGone is what a confirming barrier answers when the query ends
// before the client confirmed: its rows were not delivered.
var errClientGone = errors.New("the client went away before it confirmed the rows")

func newConfirmation() *confirmation {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &confirmation{id: hex.EncodeToString(b), nudge: make(chan struct{}, 1)}
}

// confirmed reports how many rows the client has.
func (cf *confirmation) confirmed() int64 {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return cf.rows
}

// confirm records that the client has the first n rows.
func (cf *confirmation) confirm(n int64) {
	cf.mu.Lock()
	if n > cf.rows {
		cf.rows = n
	}
	cf.mu.Unlock()
	select {
	case cf.nudge <- struct{}{}:
	default:
	}
}

// barrier asks the client to confirm the `sent` rows written so far and
// waits until it has, or the query ends.
func (cf *confirmation) barrier(ctx context.Context, sw *streamWriter, sent int64) error {
	if cf.confirmed() >= sent {
		return nil
	}
	if sw.send(ordereddict.NewDict().Set("type", "confirm").Set("id", cf.id).Set("rows", sent)) != nil || sw.flushNow() != nil {
		return errClientGone
	}
	for cf.confirmed() < sent {
		select {
		case <-cf.nudge:
		case <-ctx.Done():
			return errClientGone
		}
	}
	return nil
}

// ConfirmRequest is the body of POST /query/confirm.
type ConfirmRequest struct {
	Session string `json:"session"`
	ID      string `json:"id"`
	Rows    int64  `json:"rows"`
}

// handleConfirm takes an attached client's confirmation that its output
// has the first rows of its running query. It finds the query through
// the caller's own session, so nobody else can confirm for it.
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request, c *caller) {
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	var req ConfirmRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Session == "" || req.ID == "" {
		s.refuse(w, r, c, http.StatusBadRequest, `the body is {"session": …, "id": …, "rows": N}, as the query's confirm message gave them`)
		return
	}
	s.sessionsMu.Lock()
	rs := s.sessions[sessionOwner(c)+"\x00"+req.Session]
	s.sessionsMu.Unlock()
	var cf *confirmation
	if rs != nil {
		cf = rs.running()
	}
	if cf == nil || cf.id != req.ID {
		s.refuse(w, r, c, http.StatusNotFound, "no running query %q in session %q: it has ended", req.ID, req.Session)
		return
	}
	cf.confirm(req.Rows)
	writeJSON(w, http.StatusOK, map[string]any{"rows": req.Rows})
}
