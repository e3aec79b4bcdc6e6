package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vqlq/vqlq/clientapi"
)

// Batch bounds: a busy client sends up to this much per request; an idle
// one sends each row as soon as it is buffered.
const (
	batchRows  = 2000
	batchBytes = 4 << 20
)

// sendLoop delivers the buffer to the server, in order, for as long as
// the client runs: a batch is sent again until an answer covers it.
func (c *Client) sendLoop(ctx context.Context, stop context.CancelCauseFunc) {
	retry := backoff{min: 250 * time.Millisecond, max: 10 * time.Second}
	for ctx.Err() == nil {
		wake := c.buf.notify()
		rows, size, err := c.buf.batch(ctx, batchRows, batchBytes)
		if err != nil {
			c.logf("reading the buffer: %v", err)
			sleep(ctx, retry.next())
			continue
		}
		if len(rows) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			continue
		}
		ack, err := c.post(ctx, rows)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if revoked(err) {
				stop(ErrRevoked)
				return
			}
			if refused(err) {
				if kept, ok := c.dropRefused(ctx, rows, size); ok {
					if kept > 0 {
						retry.reset()
					}
					continue
				}
			}
			d := retry.next()
			if retry.d == retry.max || retry.d == retry.min {
				c.logf("sending %d rows: %v; %d bytes buffered; retrying every %v at most", len(rows), err, c.buf.stats().PendingBytes, d)
			}
			sleep(ctx, d)
			continue
		}
		retry.reset()
		if err := c.buf.ack(ctx, ack.Through, size); err != nil {
			c.logf("dropping acknowledged rows from the buffer: %v", err)
		}
	}
}

// refused reports whether the server refused a batch for what it holds
// (403: a queue the client may not send to), not for being away.
func refused(err error) bool {
	var he *httpError
	return errors.As(err, &he) && he.status == http.StatusForbidden
}

// dropRefused handles a batch the server refused: rows of artifacts that
// are no longer in the client's table (removed longer ago than the
// server's grace, or no longer for the client's labels) will never be
// taken, and would hold up every row behind them. They are dropped from
// the buffer, counted and logged; the rest of the batch is sent again.
// It returns how many rows remain to send, and false when no row of the
// batch is of such an artifact (the refusal is for something else).
func (c *Client) dropRefused(ctx context.Context, rows []clientapi.Row, size int64) (int, bool) {
	var drop, keep []clientapi.Row
	for _, r := range rows {
		if c.run.inTable(r.Queue) {
			keep = append(keep, r)
		} else {
			drop = append(drop, r)
		}
	}
	if len(drop) == 0 {
		return len(keep), false
	}
	counts := map[string]int{}
	for _, r := range drop {
		counts[r.Queue]++
	}
	for q, n := range counts {
		c.logf("dropped %d buffered rows of %s: the server refuses them, the artifact is no longer in this client's table", n, q)
	}
	c.dropped.Add(int64(len(drop)))
	if len(keep) == 0 {
		if err := c.buf.ack(ctx, rows[len(rows)-1].Seq, size); err != nil {
			c.logf("dropping rows from the buffer: %v", err)
		}
		return 0, true
	}
	// What is kept goes now; the answer covers the dropped rows too.
	ack, err := c.post(ctx, keep)
	if err != nil {
		return len(keep), false
	}
	through := max(ack.Through, rows[len(rows)-1].Seq)
	if err := c.buf.ack(ctx, through, size); err != nil {
		c.logf("dropping acknowledged rows from the buffer: %v", err)
	}
	return len(keep), true
}

func (c *Client) post(ctx context.Context, rows []clientapi.Row) (clientapi.Ack, error) {
	body, err := json.Marshal(clientapi.Batch{Rows: rows})
	if err != nil {
		return clientapi.Ack{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := c.request(rctx, "POST", "events", bytes.NewReader(body))
	if err != nil {
		return clientapi.Ack{}, err
	}
	var ack clientapi.Ack
	err = c.do(req, &ack)
	if err == nil && ack.Through < rows[len(rows)-1].Seq {
		err = errors.New("server acknowledged less than it was sent")
	}
	return ack, err
}

// streamLoop keeps the client's stream open: tables as they change, kill
// requests; it reconnects with backoff.
func (c *Client) streamLoop(ctx context.Context, stop context.CancelCauseFunc) {
	retry := backoff{min: 500 * time.Millisecond, max: 30 * time.Second}
	for ctx.Err() == nil {
		began := time.Now()
		err := c.stream(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, ErrKilled):
			stop(ErrKilled)
			return
		case revoked(err):
			stop(ErrRevoked)
			return
		}
		if time.Since(began) > time.Minute {
			retry.reset()
		}
		d := retry.next()
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusConflict {
			d = max(d, 10*time.Second)
		}
		c.logf("connection to the server: %v; reconnecting in %v", err, d)
		sleep(ctx, d)
	}
}

// stream holds one connection until it ends.
func (c *Client) stream(ctx context.Context) error {
	req, err := c.request(ctx, "GET", "stream", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e clientapi.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return &httpError{status: resp.StatusCode, msg: e.Error}
	}
	c.sendInfo(ctx)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var m clientapi.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return err
		}
		switch m.Type {
		case clientapi.MessageTable:
			if m.Table != nil {
				c.saveTable(*m.Table)
				c.run.apply(ctx, *m.Table)
			}
		case clientapi.MessageKill:
			return ErrKilled
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// The server ends the stream of a deleted client: find out whether
	// that is why.
	if err := c.ping(ctx); revoked(err) {
		return err
	}
	return errors.New("the server ended the connection")
}

// pingLoop pings (Server.Internal.ClientPing) and sends the host's info
// again every InfoEvery.
func (c *Client) pingLoop(ctx context.Context, stop context.CancelCauseFunc) {
	t := time.NewTicker(c.opts.PingEvery)
	defer t.Stop()
	lastInfo := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.ping(ctx); revoked(err) {
			stop(ErrRevoked)
			return
		}
		if time.Since(lastInfo) >= c.opts.InfoEvery {
			c.sendInfo(ctx)
			lastInfo = time.Now()
		}
	}
}

func (c *Client) ping(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := c.request(rctx, "POST", "ping", bytes.NewReader([]byte("{}")))
	if err != nil {
		return err
	}
	return c.do(req, nil)
}

func (c *Client) sendInfo(ctx context.Context) {
	body, _ := json.Marshal(c.info())
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := c.request(rctx, "POST", "info", bytes.NewReader(body))
	if err == nil {
		err = c.do(req, nil)
	}
	if err != nil && ctx.Err() == nil {
		c.logf("sending host info: %v", err)
	}
}

// statusLoop reports the state of each artifact the client runs at
// start, when it changes, and at least every minute.
func (c *Client) statusLoop(ctx context.Context, stop context.CancelCauseFunc) {
	var last []byte
	lastSent := time.Time{}
	for {
		// Taken before the statuses are read: a change while the report
		// is sent, or during the pause after it, is not missed.
		changed := c.run.changed()
		st, sent := c.run.statuses()
		body, _ := json.Marshal(st)
		if !bytes.Equal(body, last) || time.Since(lastSent) >= time.Minute {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			req, err := c.request(rctx, "POST", "status", bytes.NewReader(body))
			if err == nil {
				err = c.do(req, nil)
			}
			cancel()
			if err == nil {
				sent()
				last, lastSent = body, time.Now()
			}
			// A query that logs errors in a loop must not make the client
			// post a report for each.
			if !sleep(ctx, time.Second) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(time.Minute):
		}
	}
}

const tableFile = "table.json"

// saveTable keeps the last table received, so that a restart while the
// server is away runs it again.
func (c *Client) saveTable(t clientapi.Table) {
	b, _ := json.Marshal(t)
	tmp := filepath.Join(c.opts.Dir, tableFile+".new")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		c.logf("keeping the table: %v", err)
		return
	}
	if err := os.Rename(tmp, filepath.Join(c.opts.Dir, tableFile)); err != nil {
		c.logf("keeping the table: %v", err)
	}
}

func (c *Client) loadTable() (clientapi.Table, bool) {
	b, err := os.ReadFile(filepath.Join(c.opts.Dir, tableFile))
	if err != nil {
		return clientapi.Table{}, false
	}
	var t clientapi.Table
	if err := json.Unmarshal(b, &t); err != nil {
		c.logf("%s: %v (ignored; the server sends the table again)", tableFile, err)
		return clientapi.Table{}, false
	}
	return t, true
}
