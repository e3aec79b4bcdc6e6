// Package lru is a small least-recently-used map with optional expiry,
// shared by the VQL functions and plugins that cache (lru(), cache(),
// memoize(), dedup()).
package lru

import (
	"container/list"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// Cache is a bounded map that forgets its least recently used entry when
// full, and entries older than its ttl (when set). It is safe for
// concurrent use.
type Cache struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	order *list.List // of *lruEntry, most recent first
	items map[string]*list.Element
}

type lruEntry struct {
	key   string
	value any
	added time.Time
}

// New returns a Cache of at most size entries (size < 1 means 1000)
// whose entries expire after ttl (0: never).
func New(size int, ttl time.Duration) *Cache {
	if size < 1 {
		size = 1000
	}
	return &Cache{size: size, ttl: ttl, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns a live entry and marks it used.
func (l *Cache) Get(key string) (any, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*lruEntry)
	if l.ttl > 0 && time.Since(e.added) > l.ttl {
		l.order.Remove(el)
		delete(l.items, key)
		return nil, false
	}
	l.order.MoveToFront(el)
	return e.value, true
}

// Set stores an entry, evicting the least recently used beyond size.
func (l *Cache) Set(key string, v any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.items[key]; ok {
		el.Value = &lruEntry{key: key, value: v, added: time.Now()}
		l.order.MoveToFront(el)
		return
	}
	l.items[key] = l.order.PushFront(&lruEntry{key: key, value: v, added: time.Now()})
	for l.order.Len() > l.size {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.items, last.Value.(*lruEntry).key)
	}
}

// Len is the number of entries.
func (l *Cache) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// MarshalJSON writes the entries as a dict, least recently used first.
func (l *Cache) MarshalJSON() ([]byte, error) {
	l.mu.Lock()
	d := ordereddict.NewDict()
	for el := l.order.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*lruEntry)
		d.Set(e.key, e.value)
	}
	l.mu.Unlock()
	return value.EncodeJSON(d)
}
