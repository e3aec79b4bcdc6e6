package functions

import (
	"sync"
	"time"

	"github.com/vqlq/vqlq/internal/lru"
	"github.com/vqlq/vqlq/vql"
)

// LRU is a bounded map that forgets its least recently used entry when
// full: lru() returns one, cache() and memoize() keep their entries in
// one. VQL reads it like a dict (LRU[key], get(item=LRU, field=key)) and
// set() writes it.
type LRU = lru.Cache

// NewLRU returns an LRU of at most size entries (size < 1 means 1000)
// whose entries expire after ttl (0: never).
func NewLRU(size int, ttl time.Duration) *LRU { return lru.New(size, ttl) }

// keyText is the text a VQL value is cached under.
func keyText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return toString(v)
}

// LRUFn makes an empty LRU.
var LRUFn = fn("lru", "A dict-like cache holding at most size entries, forgetting the least recently used (write it with set()).",
	[]vql.ArgSpec{arg("size", vql.TypeInt, false, "Most entries kept (default 1000).")},
	func(c call) any {
		n := c.args.Int("size", 1000)
		if c.args.Failed() {
			return nil
		}
		return NewLRU(int(n), 0)
	})

// namedCache is one cache() name's state in a session.
type namedCache struct {
	entries *LRU
	mu      sync.Mutex
	lambda  *lambda
}

// Cache evaluates an expensive expression once per key: func (or the
// name's lambda) runs on a miss, and its result is returned until it
// expires. Entries live in the session, per name.
var Cache = fn("cache", "The cached value for key in the named cache; on a miss func (or the cache's lambda) is evaluated and kept.",
	[]vql.ArgSpec{
		arg("func", vql.TypeLazy, false, "Evaluated on a miss; its value is cached."),
		arg("key", vql.TypeAny, false, "What the value is cached under."),
		arg("lambda", vql.TypeString, false, "A lambda (key => …) the named cache computes misses with; set once, used by later calls."),
		arg("name", vql.TypeString, false, "The cache's name (default: one shared cache)."),
		arg("period", vql.TypeInt, false, "Seconds an entry stays valid (default: for the session)."),
		arg("max_size", vql.TypeInt, false, "Most entries kept (default 1000)."),
		arg("filename", vql.TypeString, false, "Accepted for compatibility; vqlq keeps caches in memory only."),
	}, func(c call) any {
		name := c.args.String("name", "")
		period, size := c.args.Int("period", 0), c.args.Int("max_size", 1000)
		if c.args.Failed() {
			return nil
		}
		nc := c.scope.SessionState("cache:"+name, func() any {
			return &namedCache{entries: NewLRU(int(size), time.Duration(period)*time.Second)}
		}).(*namedCache)
		if c.args.Has("lambda") {
			l, ok := lambdaArg(c, "lambda")
			if !ok {
				return nil
			}
			nc.mu.Lock()
			nc.lambda = l
			nc.mu.Unlock()
		}
		if !c.args.Has("key") {
			if c.args.Has("func") {
				return c.scope.Materialize(c.ctx, c.args.Value("func"))
			}
			return nil
		}
		key := c.scope.Materialize(c.ctx, c.args.Value("key"))
		k := keyText(key)
		if v, ok := nc.entries.Get(k); ok {
			return v
		}
		var v any
		nc.mu.Lock()
		l := nc.lambda
		nc.mu.Unlock()
		switch {
		case c.args.Has("func"):
			v = c.scope.Materialize(c.ctx, c.args.Value("func"))
		case l != nil:
			v = l.call(c, key)
		default:
			c.scope.Errorf("cache: cache %q has no lambda and the call gives no func", name)
			return nil
		}
		nc.entries.Set(k, v)
		return v
	})

// memo is a named memoize()'s rows in a session.
type memo struct {
	mu     sync.Mutex
	rows   *LRU
	loaded time.Time
}

// Memoize runs a query once and indexes its rows by the key column: the
// result is read like a dict, Memo[value] or get(item=Memo, field=value).
// With a name the rows are kept for the session (re-run after period).
var Memoize = fn("memoize", "The rows of query indexed by their key column, read like a dict (Memo[key]); kept for the session under name.",
	[]vql.ArgSpec{
		arg("query", vql.TypeQuery, true, "The rows to index."),
		arg("key", vql.TypeString, true, "The column whose value indexes a row."),
		arg("period", vql.TypeInt, false, "With name: seconds before the query is run again."),
		arg("name", vql.TypeString, false, "Share the index in the session under this name."),
	}, func(c call) any {
		key, name, period := c.args.String("key", ""), c.args.String("name", ""), c.args.Int("period", 0)
		if c.args.Failed() {
			return nil
		}
		load := func() *LRU {
			rows, _ := c.args.Rows("query")
			m := NewLRU(1<<31-1, 0)
			for row := range rows {
				row = c.scope.Materialize(c.ctx, row)
				if !c.args.Hold(row) { // the index would outgrow the query's budget
					break
				}
				v, _ := getPath(c, row, key)
				m.Set(keyText(c.scope.Materialize(c.ctx, v)), row)
			}
			return m
		}
		if name == "" {
			return load()
		}
		st := c.scope.SessionState("memoize:"+name, func() any { return &memo{} }).(*memo)
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.rows == nil || (period > 0 && time.Since(st.loaded) > time.Duration(period)*time.Second) {
			st.rows, st.loaded = load(), time.Now()
		}
		return st.rows
	})
