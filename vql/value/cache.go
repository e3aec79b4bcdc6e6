package value

import (
	"sync"
	"sync/atomic"
)

// boundedCache keeps at most 2×size values (compiled patterns, guessed
// times) in two generations: new entries go to the current one; when it
// is full it becomes the previous one and the old previous is dropped. A
// key found in the previous generation moves back to the current, so the
// keys in use survive and the rest age out. A hit is lock-free, as
// with a plain sync.Map, and needs no LRU bookkeeping.
type boundedCache[V any] struct {
	size      int
	mu        sync.Mutex // serialises put, so rotation happens once
	cur, prev atomic.Pointer[generation[V]]
}

type generation[V any] struct {
	m sync.Map // key -> V
	n int      // entries stored, guarded by boundedCache.mu
}

func newBoundedCache[V any](size int) *boundedCache[V] {
	c := &boundedCache[V]{size: size}
	c.cur.Store(&generation[V]{})
	c.prev.Store(&generation[V]{})
	return c
}

func (c *boundedCache[V]) get(key string) (V, bool) {
	if v, ok := c.cur.Load().m.Load(key); ok {
		return v.(V), true
	}
	if v, ok := c.prev.Load().m.Load(key); ok {
		c.put(key, v.(V))
		return v.(V), true
	}
	var zero V
	return zero, false
}

func (c *boundedCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.cur.Load()
	if _, ok := cur.m.Load(key); ok {
		return
	}
	if cur.n >= c.size {
		c.prev.Store(cur)
		cur = &generation[V]{}
		c.cur.Store(cur)
	}
	cur.m.Store(key, v)
	cur.n++
}

// len is how many values the cache holds.
func (c *boundedCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.Load().n + c.prev.Load().n
}
