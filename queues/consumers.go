package queues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrConsumerOwned is returned when a watcher names a consumer that
// another principal created: reading from it would move that principal's
// position and take its events.
var ErrConsumerOwned = errors.New("consumer belongs to another principal")

// ErrTooManyConsumers is returned when a principal would create more
// named consumers in one org than MaxConsumersPerPrincipal.
var ErrTooManyConsumers = errors.New("too many named consumers")

// MaxConsumersPerPrincipal bounds the positions one principal can make the
// store keep in one org.
const MaxConsumersPerPrincipal = 256

// maxConsumerName bounds a consumer's name, which is a key in the store.
const maxConsumerName = 200

// consumerKey records who owns a named consumer of a queue.
const consumerKey = "consumers/"

// ErrConsumerNotFound is returned when a consumer to acknowledge or
// delete was never created (or was deleted).
var ErrConsumerNotFound = errors.New("no such consumer")

// ErrAckBeyondLast is returned for an acknowledgement of a position the
// queue has not reached.
var ErrAckBeyondLast = errors.New("acknowledgement past the last event")

// consumerOwner is what the store keeps of a named consumer: its owner,
// when it was created, and how many of its unread events expired.
type consumerOwner struct {
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
	Skipped uint64    `json:"skipped,omitempty"`
}

func consumerRecordKey(org, queue, consumer string) string {
	return consumerKey + storeKey(org, queue) + "\x00" + consumer
}

// claimConsumer checks that principal may use the named consumer of a
// queue, recording it as the owner when the consumer is new (created is
// then true). An admin (override) may use any consumer; using one it does
// not own leaves the owner as it was.
func (m *Manager) claimConsumer(org, queue, consumer, principal string, override bool) (created bool, err error) {
	if len(consumer) > maxConsumerName {
		return false, fmt.Errorf("watch_monitoring: a consumer name is at most %d bytes, not %d", maxConsumerName, len(consumer))
	}
	if principal == "" {
		principal = ServerSender.Principal
	}
	key := consumerRecordKey(org, queue, consumer)
	m.consumerMu.Lock()
	defer m.consumerMu.Unlock()
	data, found, err := m.kv.Get(key)
	if err != nil {
		return false, err
	}
	if found {
		var o consumerOwner
		if err := json.Unmarshal(data, &o); err == nil && o.Owner != principal && !override {
			return false, fmt.Errorf("watch_monitoring: consumer %q of %s: %w (%s)", consumer, queue, ErrConsumerOwned, o.Owner)
		}
		return false, nil
	}
	if n := m.consumersOf(org, principal); n >= MaxConsumersPerPrincipal {
		return false, fmt.Errorf("watch_monitoring: consumer %q of %s: %w: %s has %d in org %s", consumer, queue, ErrTooManyConsumers, principal, n, org)
	}
	data, _ = json.Marshal(consumerOwner{Owner: principal, Created: m.now().UTC()})
	return true, m.kv.Put(key, data)
}

// attachConsumer claims a named consumer for a watcher and returns the
// position it reads from. A new consumer is recorded at once, at the
// position where it joins (start_time, else the end of the queue), so
// events sent before its first read are kept for it. Unread events that
// expired are reported (OnSkip) and counted.
func (m *Manager) attachConsumer(ctx context.Context, store Store, org, queue string, opts WatchOptions) (uint64, error) {
	key := storeKey(org, queue)
	created, err := m.claimConsumer(org, queue, opts.Consumer, opts.Principal, opts.Override)
	if err != nil {
		return 0, err
	}
	first, last, err := store.Bounds(key)
	if err != nil {
		return 0, err
	}
	pos, ok := uint64(0), false
	if !created {
		if pos, ok, err = store.Cursor(key, opts.Consumer); err != nil {
			return 0, err
		}
	}
	if !ok {
		// New (a stale position of a deleted consumer of that name is
		// overwritten), or recorded before positions were stored.
		pos = last + 1
		if !opts.StartTime.IsZero() {
			if pos, err = store.SeekTime(ctx, key, opts.StartTime); err != nil {
				return 0, err
			}
		}
		if err := store.SetCursor(key, opts.Consumer, pos); err != nil {
			return 0, err
		}
	}
	if opts.After != nil {
		if pos, err = m.Ack(org, queue, opts.Consumer, opts.Principal, opts.Override, *opts.After); err != nil {
			return 0, err
		}
	}
	if pos < first && !store.Features().Bounded {
		lost := first - pos
		m.consumerSkipped(org, queue, opts.Consumer, lost)
		if opts.OnSkip != nil {
			opts.OnSkip(lost)
		}
		pos = first
		if err := store.SetCursor(key, opts.Consumer, pos); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// ackConsumer stores a consumer's next position (a watcher acknowledging
// what its query is done with).
func (m *Manager) ackConsumer(store Store, org, queue, consumer string, next uint64) error {
	if err := store.SetCursor(storeKey(org, queue), consumer, next); err != nil {
		return err
	}
	m.ackMu.Lock()
	if m.lastAck == nil {
		m.lastAck = map[string]time.Time{}
	}
	m.lastAck[consumerRecordKey(org, queue, consumer)] = m.now().UTC()
	m.ackMu.Unlock()
	return nil
}

// consumerSkipped adds to the count of a consumer's events that expired
// unread.
func (m *Manager) consumerSkipped(org, queue, consumer string, n uint64) {
	key := consumerRecordKey(org, queue, consumer)
	m.consumerMu.Lock()
	defer m.consumerMu.Unlock()
	data, found, err := m.kv.Get(key)
	if err != nil || !found {
		return
	}
	var o consumerOwner
	if json.Unmarshal(data, &o) != nil {
		return
	}
	o.Skipped += n
	data, _ = json.Marshal(o)
	_ = m.kv.Put(key, data)
}

// Ack acknowledges, for a named consumer, every event up to and including
// seq: the consumer resumes after it. The position never moves back (an
// older seq changes nothing) and cannot pass the last event. Only the
// consumer's owner (or override, an admin) may acknowledge. It returns the
// consumer's next position.
func (m *Manager) Ack(org, queue, consumer, principal string, override bool, seq uint64) (uint64, error) {
	a, err := m.resolve(org, queue, "ack")
	if err != nil {
		return 0, err
	}
	if !a.IsEvent() {
		return 0, fmt.Errorf("ack: %s is a %s artifact; only event artifacts have queues", queue, a.Type)
	}
	if err := m.checkOwner(org, queue, consumer, principal, override, "ack"); err != nil {
		return 0, err
	}
	store := m.storeFor(a)
	key := storeKey(org, queue)
	m.ackMu.Lock()
	defer m.ackMu.Unlock()
	_, last, err := store.Bounds(key)
	if err != nil {
		return 0, err
	}
	if seq > last {
		return 0, fmt.Errorf("ack: consumer %q of %s: %w: %d is past %d", consumer, queue, ErrAckBeyondLast, seq, last)
	}
	next, _, err := store.Cursor(key, consumer)
	if err != nil {
		return 0, err
	}
	if seq+1 <= next {
		return next, nil
	}
	if err := store.SetCursor(key, consumer, seq+1); err != nil {
		return 0, err
	}
	if m.lastAck == nil {
		m.lastAck = map[string]time.Time{}
	}
	m.lastAck[consumerRecordKey(org, queue, consumer)] = m.now().UTC()
	return seq + 1, nil
}

// checkOwner refuses a principal that is neither the owner of an existing
// consumer nor override.
func (m *Manager) checkOwner(org, queue, consumer, principal string, override bool, op string) error {
	if principal == "" {
		principal = ServerSender.Principal
	}
	data, found, err := m.kv.Get(consumerRecordKey(org, queue, consumer))
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s: consumer %q of %s: %w", op, consumer, queue, ErrConsumerNotFound)
	}
	var o consumerOwner
	if err := json.Unmarshal(data, &o); err == nil && o.Owner != principal && !override {
		return fmt.Errorf("%s: consumer %q of %s: %w (%s)", op, consumer, queue, ErrConsumerOwned, o.Owner)
	}
	return nil
}

// DeleteConsumer forgets a named consumer: its owner, position and counts.
// Only its owner (or override, an admin) may. A watcher still reading it
// goes on; a later watcher of that name creates it anew where it joins.
func (m *Manager) DeleteConsumer(org, queue, consumer, principal string, override bool) error {
	if _, err := m.resolve(org, queue, "consumer_delete"); err != nil {
		return err
	}
	m.consumerMu.Lock()
	defer m.consumerMu.Unlock()
	if err := m.checkOwner(org, queue, consumer, principal, override, "consumer_delete"); err != nil {
		return err
	}
	key := consumerRecordKey(org, queue, consumer)
	m.ackMu.Lock()
	delete(m.lastAck, key)
	m.ackMu.Unlock()
	return m.kv.Delete(key)
}

// ConsumerInfo is one named consumer, as consumers() lists it.
type ConsumerInfo struct {
	Queue string
	Name  string
	Owner string
	// Position is the last acknowledged event (its _seq; 0 for none): the
	// consumer resumes at Position+1.
	Position uint64
	// Lag is how many stored events it has still to read.
	Lag uint64
	// LastAck is when it last acknowledged an event since the process
	// started (zero when it has not).
	LastAck time.Time
	// Skipped counts its events that expired (retention) unread, including
	// those expiring now before it reads them.
	Skipped uint64
	Created time.Time
	// Forwarder is the forwarder reading it now (elastic_upload(),
	// splunk_upload(), webhook_upload()), nil when none is.
	Forwarder *ForwardInfo
}

// Consumers lists the named consumers of an org's queues, by queue and
// name.
func (m *Manager) Consumers(org string) []ConsumerInfo {
	var out []ConsumerInfo
	prefix := consumerKey + org + "|"
	_ = m.kv.Scan(prefix, func(k string, v []byte) error {
		queue, name, ok := strings.Cut(strings.TrimPrefix(k, prefix), "\x00")
		if !ok {
			return nil
		}
		var o consumerOwner
		_ = json.Unmarshal(v, &o)
		ci := ConsumerInfo{Queue: queue, Name: name, Owner: o.Owner, Skipped: o.Skipped, Created: o.Created}
		m.ackMu.Lock()
		ci.LastAck = m.lastAck[k]
		m.ackMu.Unlock()
		ci.Forwarder = m.forwarderOf(k)
		if a, err := m.resolve(org, queue, "consumers"); err == nil && a.IsEvent() {
			store := m.storeFor(a)
			key := storeKey(org, queue)
			first, last, _ := store.Bounds(key)
			next, found, _ := store.Cursor(key, name)
			if !found {
				next = last + 1
			}
			if next > 0 {
				ci.Position = next - 1
			}
			if next < first {
				ci.Skipped += first - next
				next = first
			}
			if last+1 > next {
				ci.Lag = last + 1 - next
			}
		}
		out = append(out, ci)
		return nil
	})
	return out
}

// consumersOf counts the named consumers a principal owns in an org.
func (m *Manager) consumersOf(org, principal string) int {
	n := 0
	_ = m.kv.Scan(consumerKey+org+"|", func(_ string, v []byte) error {
		var o consumerOwner
		if json.Unmarshal(v, &o) == nil && o.Owner == principal {
			n++
		}
		return nil
	})
	return n
}
