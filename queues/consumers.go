package queues

import (
	"encoding/json"
	"errors"
	"fmt"
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

// consumerOwner is what the store keeps of a named consumer's owner.
type consumerOwner struct {
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
}

// claimConsumer checks that principal may use the named consumer of a
// queue, recording it as the owner when the consumer is new. An admin
// (override) may use any consumer; using one it does not own leaves the
// owner as it was.
func (m *Manager) claimConsumer(org, queue, consumer, principal string, override bool) error {
	if len(consumer) > maxConsumerName {
		return fmt.Errorf("watch_monitoring: a consumer name is at most %d bytes, not %d", maxConsumerName, len(consumer))
	}
	if principal == "" {
		principal = ServerSender.Principal
	}
	key := consumerKey + storeKey(org, queue) + "\x00" + consumer
	m.consumerMu.Lock()
	defer m.consumerMu.Unlock()
	data, found, err := m.kv.Get(key)
	if err != nil {
		return err
	}
	if found {
		var o consumerOwner
		if err := json.Unmarshal(data, &o); err == nil && o.Owner != principal && !override {
			return fmt.Errorf("watch_monitoring: consumer %q of %s: %w (%s)", consumer, queue, ErrConsumerOwned, o.Owner)
		}
		return nil
	}
	if n := m.consumersOf(org, principal); n >= MaxConsumersPerPrincipal {
		return fmt.Errorf("watch_monitoring: consumer %q of %s: %w: %s has %d in org %s", consumer, queue, ErrTooManyConsumers, principal, n, org)
	}
	data, _ = json.Marshal(consumerOwner{Owner: principal, Created: m.now().UTC()})
	return m.kv.Put(key, data)
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
