// Package forward holds the forwarders: plugins that send the rows of a
// query to a remote sink (Elasticsearch or OpenSearch, Splunk's HTTP
// Event Collector, a webhook, LogScale's structured ingest, Azure Data
// Explorer's streaming ingestion) and, when the query reads a named consumer
// (watch_monitoring(consumer=…)), acknowledge an event only once the sink
// has accepted every document made from it. A document the sink may yet
// take (a refused connection, a 429, a 5xx, a per-document 429) is sent
// again with backoff, for as long as the query runs; one it rejects for
// good (a mapping error, another 4xx) is stored in a dead-letter queue
// before its event is acknowledged. Nothing read is lost: a forwarder
// stopped at any point resumes, with the same consumer, after the last
// batch the sink accepted, and the documents of the batch it was sending
// keep their ids, so the sink overwrites them instead of holding two.
//
// Beside them, upload_gcs stores one file in a Google Cloud Storage
// bucket: a function, as Velociraptor's, that returns once the bucket
// holds the whole file.
//
// What the cloud sinks do and do not do, against Velociraptor's:
//   - logscale_upload posts to the structured ingest endpoint with
//     Velociraptor's arguments and payload; the ClientHostname tag
//     Velociraptor adds from its client records is not sent (vqlq has no
//     clients yet), ClientId is.
//   - adx_upload uses Kusto's streaming ingestion only. Velociraptor's
//     managed client falls back to queued ingestion (a blob in the
//     cluster's staging storage announced on its ingestion queue), which
//     is not implemented: the table needs its streaming ingestion policy,
//     and a cluster that refuses streaming is retried, never
//     dead-lettered. The token comes from the service principal's client
//     credentials (or token=); secret= reads a server_metadata() entry,
//     as vqlq has no secrets service.
//   - upload_gcs authenticates with a service-account JSON key only (no
//     application default credentials, no metadata server) and uses the
//     resumable upload; project= is required, as Velociraptor's, but an
//     upload needs only the bucket.
package forward

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// document is one row on its way to a sink.
type document struct {
	row *ordereddict.Dict // as the query produced it, for the dead-letter queue
	// id names the document at the sink: the row's id column, else
	// <queue>:<seq> of the event it came from (with :n for the n-th
	// further row of one event); empty when neither is known.
	id        string
	origin    queues.Origin
	hasOrigin bool
	body      []byte // the sink's encoding, made once
	attempts  int    // failed sends so far
	lastError string
}

// verdict is what a sink did with one document.
type verdict int

const (
	accepted verdict = iota
	// retry: the sink may take it later (a per-document 429, a 5xx).
	retry
	// rejected: the sink will never take it as it is.
	rejected
	// unsent: the request stopped before this document (Splunk stops at
	// the first bad event); it goes again at once.
	unsent
)

// result is the fate of one document of a send.
type result struct {
	verdict verdict
	status  int
	reason  string
}

// sink is where a forwarder sends. send delivers docs and says, for each,
// what became of it; an error is a failure of the whole request (nothing
// was accepted), a *permanentError when repeating it cannot help.
type sink interface {
	// prepare encodes a document for the sink; an error rejects it.
	prepare(d *document) error
	send(ctx context.Context, docs []*document) ([]result, error)
}

// permanentError is a request the sink refused for a reason that sending
// it again will not change (a 400).
type permanentError struct {
	status int
	reason string
}

func (e *permanentError) Error() string { return e.reason }

// options are a forwarder's settings, common to every sink.
type options struct {
	name        string // the plugin, for messages
	chunk       int
	wait        time.Duration // flush interval
	retryWait   time.Duration // first backoff
	maxWait     time.Duration // backoff cap
	maxRetries  int           // failed sends before a document is given up; <0: for ever
	deadLetters string
	idColumn    string
	// statsInterval, when set, logs the forwarder's counts this often
	// (Velociraptor's logscale_upload(stats_interval=)).
	statsInterval time.Duration
	// debug logs every batch delivered.
	debug bool
}

// forwarder is one running forwarder plugin.
type forwarder struct {
	ctx   context.Context
	scope *vql.Scope
	m     *queues.Manager
	sink  sink
	opts  options
	stats *queues.ForwardStats
	org   string
	from  queues.Sender
}

// item is a row as the query handed it over, with the event it came from.
type item struct {
	row       vql.Row
	origin    queues.Origin
	hasOrigin bool
}

// run forwards the rows of query; it yields one row per batch delivered.
func (f *forwarder) run(query any) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		d := queues.NewDeferred(f.stats)
		qctx, cancel := context.WithCancel(queues.WithDeferred(f.ctx, d))
		// Unbuffered: a row is in the loop's hands as soon as the query
		// goes on, which is what lets Commit follow a delivered batch.
		rows := make(chan item)
		go func() {
			defer close(rows)
			for row := range f.scope.RowsOf(qctx, query) {
				o, ok := d.Origin()
				select {
				case rows <- item{row: row, origin: o, hasOrigin: ok}:
				case <-qctx.Done():
					return
				}
			}
		}()
		defer func() {
			cancel()
			for range rows {
			}
		}()
		timer := time.NewTimer(f.opts.wait)
		defer timer.Stop()
		var statsTick <-chan time.Time // nil: never
		if f.opts.statsInterval > 0 {
			t := time.NewTicker(f.opts.statsInterval)
			defer t.Stop()
			statsTick = t.C
		}
		var batch []*document
		var last queues.Origin
		repeat := 0 // rows of the last origin so far
		// flush delivers the batch and acknowledges what the query handed
		// over before it; false ends the forwarder.
		flush := func() bool {
			if err := f.deliver(batch); err != nil {
				return false
			}
			if err := d.Commit(); err != nil {
				f.scope.Log(vql.LevelWarn, "%s: acknowledging the events delivered: %v (they will be sent again)", f.opts.name, err)
			}
			n := len(batch)
			batch = batch[:0]
			timer.Reset(f.opts.wait)
			if n == 0 {
				return true
			}
			if f.opts.debug {
				f.scope.Log(vql.LevelDebug, "%s: %s delivered", f.opts.name, count(n))
			}
			return yield(f.report(n))
		}
		for {
			select {
			case it, ok := <-rows:
				if !ok {
					flush()
					return
				}
				doc := f.document(it, &last, &repeat)
				if err := f.sink.prepare(doc); err != nil {
					// Not deliverable as it is: a dead letter at once.
					if f.deadLetter(doc, 0, err.Error()) != nil {
						return
					}
					continue
				}
				batch = append(batch, doc)
				if len(batch) >= f.opts.chunk && !flush() {
					return
				}
			case <-timer.C:
				if !flush() {
					return
				}
			case <-statsTick:
				st := f.stats.Snapshot()
				f.scope.Log(vql.LevelInfo, "%s: %d forwarded, %d retries, %d dead letters", f.opts.name, st.Forwarded, st.Retries, st.DeadLetters)
			case <-f.ctx.Done():
				return
			}
		}
	}
}

// report is the row yielded for a delivered batch of n documents.
func (f *forwarder) report(n int) *ordereddict.Dict {
	s := f.stats.Snapshot()
	return ordereddict.NewDict().Set("Sink", s.Sink).Set("Documents", int64(n)).
		Set("Forwarded", s.Forwarded).Set("Retries", s.Retries).Set("DeadLetters", s.DeadLetters)
}

// document makes a row into a document and names it.
func (f *forwarder) document(it item, last *queues.Origin, repeat *int) *document {
	row := asDict(f.ctx, f.scope, it.row)
	d := &document{row: row, origin: it.origin, hasOrigin: it.hasOrigin}
	if v, ok := row.Get(f.opts.idColumn); ok && v != nil {
		d.id = fmt.Sprint(v)
	} else if it.hasOrigin {
		d.id = it.origin.Queue + ":" + strconv.FormatUint(it.origin.Seq, 10)
		if *last == it.origin {
			*repeat++
			d.id += ":" + strconv.Itoa(*repeat)
		} else {
			*repeat = 0
		}
	}
	if it.hasOrigin {
		*last = it.origin
	}
	return d
}

// asDict is a row as a dict: a host plugin's rows may be any Go value.
func asDict(ctx context.Context, scope *vql.Scope, row vql.Row) *ordereddict.Dict {
	row = scope.Materialize(ctx, row)
	if d, ok := row.(*ordereddict.Dict); ok {
		return d
	}
	d := ordereddict.NewDict()
	for _, k := range value.Keys(row) {
		v, _ := value.Member(row, k)
		d.Set(k, v)
	}
	return d
}

// deliver sends a batch until the sink has taken or rejected every
// document in it; it fails only when the forwarder is stopped.
func (f *forwarder) deliver(batch []*document) error {
	pending := batch
	failures := 0
	for len(pending) > 0 {
		res, err := f.sink.send(f.ctx, pending)
		if f.ctx.Err() != nil {
			return f.ctx.Err()
		}
		if err != nil {
			var pe *permanentError
			if errors.As(err, &pe) {
				if len(pending) == 1 {
					return f.deadLetter(pending[0], pe.status, pe.reason)
				}
				// Which document the sink refused is not known: send
				// them one by one, and only that one is a dead letter.
				for _, d := range pending {
					if err := f.deliver([]*document{d}); err != nil {
						return err
					}
				}
				return nil
			}
			cause := err.Error()
			for _, d := range pending {
				d.lastError = cause
			}
			if pending, err = f.again(pending); err != nil {
				return err
			}
			if len(pending) == 0 {
				return nil
			}
			if err := f.backoff(&failures, fmt.Errorf("%s: %s", count(len(pending)), cause)); err != nil {
				return err
			}
			continue
		}
		var again, skipped []*document
		var firstRetry string
		for i, d := range pending {
			r := result{verdict: unsent}
			if i < len(res) {
				r = res[i]
			}
			switch r.verdict {
			case accepted:
				f.stats.Forwarded(1)
			case rejected:
				if err := f.deadLetter(d, r.status, r.reason); err != nil {
					return err
				}
			case retry:
				if firstRetry == "" {
					firstRetry = r.reason
				}
				d.lastError = r.reason
				again = append(again, d)
			case unsent:
				skipped = append(skipped, d)
			}
		}
		if again, err = f.again(again); err != nil {
			return err
		}
		pending = append(again, skipped...)
		if len(again) > 0 {
			if err := f.backoff(&failures, fmt.Errorf("%s: %s", count(len(again)), firstRetry)); err != nil {
				return err
			}
		} else {
			failures = 0
		}
	}
	return nil
}

// count says how many documents.
func count(n int) string {
	if n == 1 {
		return "1 document"
	}
	return strconv.Itoa(n) + " documents"
}

// again counts a failed attempt of each document (its lastError says
// why); those past max_retries become dead letters, the others are
// returned to be sent again.
func (f *forwarder) again(docs []*document) ([]*document, error) {
	var keep []*document
	for _, d := range docs {
		d.attempts++
		if f.opts.maxRetries >= 0 && d.attempts > f.opts.maxRetries {
			if err := f.deadLetter(d, 0, fmt.Sprintf("gave up after %d attempts: %s", d.attempts, d.lastError)); err != nil {
				return nil, err
			}
			continue
		}
		keep = append(keep, d)
	}
	return keep, nil
}

// backoff waits before a send is repeated: retry_wait, doubling with each
// failure in a row, at most max_wait. It fails only when the forwarder is
// stopped.
func (f *forwarder) backoff(failures *int, cause error) error {
	f.stats.Retried(cause, time.Now())
	wait := f.opts.retryWait
	for i := 0; i < *failures && wait < f.opts.maxWait; i++ {
		wait *= 2
	}
	wait = min(wait, f.opts.maxWait)
	*failures++
	f.scope.Log(vql.LevelWarn, "%s: %v; sending again in %v", f.opts.name, cause, wait)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
}

// deadLetter stores a document the sink rejected for good in the
// dead-letter queue. The row is stored before its event can be
// acknowledged: a store that fails is tried again, with backoff, until
// it works or the forwarder is stopped.
func (f *forwarder) deadLetter(d *document, status int, reason string) error {
	var queue, seq any
	if d.hasOrigin {
		queue, seq = d.origin.Queue, int64(d.origin.Seq)
	}
	var id any
	if d.id != "" {
		id = d.id
	}
	row := ordereddict.NewDict().Set("sink", f.stats.Snapshot().Sink).Set("id", id).
		Set("queue", queue).Set("seq", seq).Set("status", int64(status)).Set("reason", reason).Set("row", d.row)
	failures := 0
	for {
		_, err := f.m.Send(f.ctx, f.org, f.opts.deadLetters, row, f.from)
		if err == nil {
			break
		}
		if f.ctx.Err() != nil {
			return f.ctx.Err()
		}
		if err := f.backoff(&failures, fmt.Errorf("storing a dead letter in %s: %w", f.opts.deadLetters, err)); err != nil {
			return err
		}
	}
	f.stats.DeadLettered(reason, time.Now())
	shown := d.id
	if shown == "" {
		shown = "without id"
	}
	f.scope.Log(vql.LevelWarn, "%s: document %s rejected (%s): stored in %s", f.opts.name, shown, strings.TrimSpace(reason), f.opts.deadLetters)
	return nil
}
