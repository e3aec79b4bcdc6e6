package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql/value"
)

// ClientTables is the client event table (package clienttable) as the
// server asks it: what a client runs, when that may have changed, and
// where its reports go. Without one every client runs nothing.
type ClientTables interface {
	// Table is what a client with these labels runs, and the queues it
	// may send rows to.
	Table(org string, labels []string) (clientapi.Table, []string, error)
	// Changed is closed at the next change of the org's table.
	Changed(org string) <-chan struct{}
	// Report records what a client says of the artifacts it runs.
	Report(org, clientID string, st []clientapi.Status)
}

// The INTERNAL queues the client endpoints tell about clients on, as
// Velociraptor's frontend does.
const (
	EnrollmentQueue     = "Server.Internal.Enrollment"
	ClientInfoQueue     = "Server.Internal.ClientInfo"
	ClientPingQueue     = "Server.Internal.ClientPing"
	ClientConflictQueue = "Server.Internal.ClientConflict"
)

// maxClientBatch bounds the rows of one events request; a client sends
// more in several.
const maxClientBatch = 10000

func (s *Server) clientRoutes() {
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/clients/enroll", s.auth(s.handleEnroll))
	s.mux.HandleFunc("GET /api/v1/orgs/{org}/clients/{id}/stream", s.asClient(s.handleClientStream))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/clients/{id}/events", s.asClient(s.handleClientEvents))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/clients/{id}/info", s.asClient(s.handleClientInfo))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/clients/{id}/ping", s.asClient(s.handleClientPing))
	s.mux.HandleFunc("POST /api/v1/orgs/{org}/clients/{id}/status", s.asClient(s.handleClientStatus))
}

// KeyHash is how the server keeps a client's credential: its SHA-256.
func KeyHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// clientCaller is a request a client made with its own credential.
type clientCaller struct {
	org, id string
	record  *fleet.Client
	// c stands for the client in refusals and audit rows: its principal
	// is the client id.
	c *caller
}

// asClient authenticates a client endpoint: the bearer secret must be
// the one the client enrolled with, for the id in the path. Nothing else
// opens these endpoints (an API token, even an admin's, is refused): a
// client's rows come from the client.
func (s *Server) asClient(h func(w http.ResponseWriter, r *http.Request, cc *clientCaller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		org, id := r.PathValue("org"), r.PathValue("id")
		anon := &caller{org: org}
		if err := queues.CheckOrg(org); err != nil {
			s.refuseAs(w, r, anon, http.StatusBadRequest, reasonBadRequest, "%v", err)
			return
		}
		if err := fleet.CheckClientID(id); err != nil {
			s.refuseAs(w, r, anon, http.StatusBadRequest, reasonBadRequest, "%v", err)
			return
		}
		secret, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			s.refuseAs(w, r, anon, http.StatusUnauthorized, reasonMissingToken, "missing client credential: send Authorization: Bearer <the client's secret>")
			return
		}
		rec, found, err := fleet.Of(s.opts.Manager).Get(org, id)
		if err != nil {
			s.refuse(w, r, anon, http.StatusInternalServerError, "%v", err)
			return
		}
		if !found || rec.KeyHash == "" || subtle.ConstantTimeCompare([]byte(KeyHash(secret)), []byte(rec.KeyHash)) != 1 {
			// One answer for an unknown (or deleted) client and a wrong
			// secret: a caller learns nothing of which ids exist.
			s.refuseAs(w, r, anon, http.StatusUnauthorized, reasonInvalidToken, "client %s is not enrolled in org %s with this credential (deleted? enroll again with --enroll-token)", id, org)
			return
		}
		c := &caller{org: org, token: &Token{Name: id, Org: org, Role: "client"}, deny: s.opts.Deny}
		h(w, withCaller(r, c), &clientCaller{org: org, id: id, record: rec, c: c})
	}
}

// handleEnroll records a client that introduces itself with an
// enrollment token: the id and credential it made. An id enrolled before
// with another credential is refused (409): only the client holding the
// secret may speak for its id.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.local && c.token.Role != RoleEnroll && c.token.Role != RoleAdmin {
		s.refuse(w, r, c, http.StatusForbidden, "token %s (%s) may not enroll clients: use a token of role enroll", c.token.Name, c.token.Role)
		return
	}
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	var e clientapi.Enrollment
	if err := json.Unmarshal(body, &e); err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "enrollment: %v", err)
		return
	}
	if err := fleet.CheckClientID(e.ClientID); err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "enrollment: %v", err)
		return
	}
	if len(e.KeyHash) != 64 {
		s.refuse(w, r, c, http.StatusBadRequest, "enrollment: key_hash must be the SHA-256 (64 hex digits) of the client's secret")
		return
	}
	reg := fleet.Of(s.opts.Manager)
	old, known, err := reg.Get(c.org, e.ClientID)
	if err != nil {
		s.refuse(w, r, c, http.StatusInternalServerError, "%v", err)
		return
	}
	if known && old.KeyHash != "" && subtle.ConstantTimeCompare([]byte(old.KeyHash), []byte(e.KeyHash)) != 1 {
		s.refuse(w, r, c, http.StatusConflict, "client id %s is enrolled already, with another credential", e.ClientID)
		s.sendInternal(r.Context(), c.org, ClientConflictQueue, e.ClientID, ordereddict.NewDict().
			Set("ClientId", e.ClientID).Set("Reason", "enrollment with another credential").Set("Remote", remoteKey(r.RemoteAddr)))
		return
	}
	rec, err := reg.Enroll(c.org, clientRecord(e.ClientID, e.Info, e.KeyHash, remoteKey(r.RemoteAddr)))
	if err != nil {
		s.refuse(w, r, c, http.StatusBadRequest, "enrollment: %v", err)
		return
	}
	if !known {
		_ = s.opts.Manager.Audit(context.WithoutCancel(r.Context()), c.org, "client_enroll", c.principal(), ordereddict.NewDict().
			Set("client_id", e.ClientID).Set("hostname", e.Hostname).Set("remote", remoteKey(r.RemoteAddr)))
		s.sendInternal(r.Context(), c.org, EnrollmentQueue, e.ClientID, ordereddict.NewDict().
			Set("ClientId", e.ClientID).Set("Hostname", e.Hostname).Set("Token", c.principal()))
	}
	s.sendInternal(r.Context(), c.org, ClientInfoQueue, e.ClientID, rec.Row().Set("ClientId", e.ClientID))
	writeJSON(w, http.StatusOK, clientapi.Enrolled{ClientID: e.ClientID, Org: c.org, New: !known})
}

func clientRecord(id string, info clientapi.Info, keyHash, addr string) fleet.Client {
	return fleet.Client{ClientID: id, Hostname: info.Hostname, FQDN: info.FQDN, System: info.System,
		Release: info.Release, Machine: info.Machine, AgentName: info.AgentName, AgentVersion: info.AgentVersion,
		KeyHash: keyHash, LastIP: addr}
}

// sendInternal sends a row the server makes about a client; a failure is
// not the client's (the row is informational), so it is only logged in
// the audit of the org.
func (s *Server) sendInternal(ctx context.Context, org, queue, clientID string, row *ordereddict.Dict) {
	if _, err := s.opts.Manager.Send(context.WithoutCancel(ctx), org, queue, row, queues.Sender{Principal: clientID, Internal: true}); err != nil {
		_ = s.opts.Manager.Audit(context.WithoutCancel(ctx), org, "client_event_lost", clientID, ordereddict.NewDict().
			Set("queue", queue).Set("error", err.Error()))
	}
}

// table is what a client runs now, by its current labels.
func (s *Server) table(org string, rec *fleet.Client) (clientapi.Table, []string, error) {
	if s.opts.Clients == nil {
		return clientapi.Table{Version: "none", Artifacts: []clientapi.Artifact{}}, nil, nil
	}
	return s.opts.Clients.Table(org, rec.Labels)
}

// handleClientStream is a client's connection: its table now and at each
// change, kill requests, and keep-alives, until the client leaves, the
// server stops or the client is deleted. A second connection for one id
// is refused with 409 and told on Server.Internal.ClientConflict.
func (s *Server) handleClientStream(w http.ResponseWriter, r *http.Request, cc *clientCaller) {
	reg := fleet.Of(s.opts.Manager)
	release, err := reg.Connect(cc.org, cc.id)
	if errors.Is(err, fleet.ErrConnected) {
		s.refuseAs(w, r, cc.c, http.StatusConflict, reasonConflict, "client %s is connected already: another process uses this client id (a copied machine or data folder?)", cc.id)
		s.sendInternal(r.Context(), cc.org, ClientConflictQueue, cc.id, ordereddict.NewDict().
			Set("ClientId", cc.id).Set("Reason", "connected already").Set("Remote", remoteKey(r.RemoteAddr)))
		return
	}
	defer release()
	_, _ = reg.Touch(cc.org, cc.id, remoteKey(r.RemoteAddr))
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	write := func(m clientapi.Message) bool {
		b, _ := json.Marshal(m)
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(append(b, '\n')); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	ping := time.NewTicker(s.opts.KeepAlive)
	defer ping.Stop()
	sent := ""
	for {
		// Take the change channels before reading what they guard.
		recChanged := reg.Changed(cc.org, cc.id)
		var tableChanged <-chan struct{}
		if s.opts.Clients != nil {
			tableChanged = s.opts.Clients.Changed(cc.org)
		}
		rec, found, err := reg.Get(cc.org, cc.id)
		if err != nil || !found || rec.KeyHash != cc.record.KeyHash {
			return // deleted (client_delete): the connection ends
		}
		if _, pending, _ := reg.TakeKill(cc.org, cc.id); pending {
			write(clientapi.Message{Type: clientapi.MessageKill})
			return
		}
		t, _, err := s.table(cc.org, rec)
		if err == nil && t.Version != sent {
			if !write(clientapi.Message{Type: clientapi.MessageTable, Table: &t}) {
				return
			}
			sent = t.Version
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.draining:
			return
		case <-recChanged:
		case <-tableChanged:
		case <-ping.C:
			if !write(clientapi.Message{Type: clientapi.MessagePing}) {
				return
			}
		}
	}
}

// handleClientEvents stores a batch of a client's rows. Each row's queue
// must be a CLIENT_EVENT artifact of the client's table: a client sends
// nowhere else. The answer comes once every row is stored; rows stored by
// an earlier try of the same batch are not stored again.
func (s *Server) handleClientEvents(w http.ResponseWriter, r *http.Request, cc *clientCaller) {
	if !s.beginSend() {
		s.refuse(w, r, cc.c, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	defer s.inflight.Done()
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, cc.c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	var b clientapi.Batch
	if err := json.Unmarshal(body, &b); err != nil {
		s.refuse(w, r, cc.c, http.StatusBadRequest, "events: %v", err)
		return
	}
	if len(b.Rows) > maxClientBatch {
		s.refuse(w, r, cc.c, http.StatusRequestEntityTooLarge, "events: %d rows in one batch; send at most %d", len(b.Rows), maxClientBatch)
		return
	}
	_, allowed, err := s.table(cc.org, cc.record)
	if err != nil {
		s.refuse(w, r, cc.c, http.StatusInternalServerError, "%v", err)
		return
	}
	var runs []run
	for i, row := range b.Rows {
		if i > 0 && row.Seq <= b.Rows[i-1].Seq {
			s.refuse(w, r, cc.c, http.StatusBadRequest, "events: row %d: seq %d after %d: numbers must increase", i, row.Seq, b.Rows[i-1].Seq)
			return
		}
		if !slices.Contains(allowed, row.Queue) {
			s.refuse(w, r, cc.c, http.StatusForbidden, "client %s may not send to %s: it is not an artifact of its event table", cc.id, row.Queue)
			return
		}
		v, err := value.DecodeJSON(row.Row)
		d, ok := v.(*ordereddict.Dict)
		if err != nil || !ok {
			s.refuse(w, r, cc.c, http.StatusBadRequest, "events: row %d (seq %d) is not a JSON object", i, row.Seq)
			return
		}
		if len(runs) == 0 || runs[len(runs)-1].queue != row.Queue {
			runs = append(runs, run{queue: row.Queue})
		}
		last := &runs[len(runs)-1]
		last.rows = append(last.rows, queues.ClientRow{Seq: row.Seq, Row: d})
	}
	ctx := context.WithoutCancel(r.Context())
	stored := 0
	for _, run := range runs {
		n, err := s.opts.Manager.SendFromClient(ctx, cc.org, run.queue, cc.id, run.rows)
		if err != nil {
			status := sendStatus(err)
			if !errors.Is(err, queues.ErrDiskFull) {
				status = http.StatusInternalServerError
			}
			s.refuse(w, r, cc.c, status, "%v", err)
			return
		}
		stored += n
	}
	var through uint64
	if len(b.Rows) > 0 {
		through = b.Rows[len(b.Rows)-1].Seq
	}
	writeJSON(w, http.StatusOK, clientapi.Ack{Through: through, Stored: stored})
}

// run is consecutive rows of one queue in a client's batch.
type run struct {
	queue string
	rows  []queues.ClientRow
}

// handleClientInfo takes a client's host description (at start, and
// daily): the record follows it and Server.Internal.ClientInfo tells it.
func (s *Server) handleClientInfo(w http.ResponseWriter, r *http.Request, cc *clientCaller) {
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, cc.c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	var info clientapi.Info
	if err := json.Unmarshal(body, &info); err != nil {
		s.refuse(w, r, cc.c, http.StatusBadRequest, "info: %v", err)
		return
	}
	rec, err := fleet.Of(s.opts.Manager).Enroll(cc.org, clientRecord(cc.id, info, cc.record.KeyHash, remoteKey(r.RemoteAddr)))
	if err != nil {
		s.refuse(w, r, cc.c, http.StatusBadRequest, "info: %v", err)
		return
	}
	s.sendInternal(r.Context(), cc.org, ClientInfoQueue, cc.id, rec.Row().Set("ClientId", cc.id))
	writeJSON(w, http.StatusOK, map[string]any{"client_id": cc.id})
}

// handleClientPing records that a client is alive.
func (s *Server) handleClientPing(w http.ResponseWriter, r *http.Request, cc *clientCaller) {
	rec, err := fleet.Of(s.opts.Manager).Touch(cc.org, cc.id, remoteKey(r.RemoteAddr))
	if err != nil {
		s.refuse(w, r, cc.c, http.StatusInternalServerError, "%v", err)
		return
	}
	s.sendInternal(r.Context(), cc.org, ClientPingQueue, cc.id, ordereddict.NewDict().
		Set("ClientId", cc.id).Set("Timestamp", rec.LastSeen.Unix()))
	writeJSON(w, http.StatusOK, map[string]any{"client_id": cc.id})
}

// handleClientStatus takes a client's report of the artifacts it runs
// (client_monitoring_logs()).
func (s *Server) handleClientStatus(w http.ResponseWriter, r *http.Request, cc *clientCaller) {
	body, berr := s.readBody(w, r)
	if berr != nil {
		s.refuseAs(w, r, cc.c, berr.status, berr.reason, "%s", berr.msg)
		return
	}
	var st []clientapi.Status
	if err := json.Unmarshal(body, &st); err != nil {
		s.refuse(w, r, cc.c, http.StatusBadRequest, "status: %v", err)
		return
	}
	if len(st) > 1000 {
		s.refuse(w, r, cc.c, http.StatusBadRequest, "status: %d entries; at most 1000", len(st))
		return
	}
	if s.opts.Clients != nil {
		s.opts.Clients.Report(cc.org, cc.id, st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"client_id": cc.id})
}
