package value

import (
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
)

// regexCacheSize bounds the patterns kept compiled: patterns come from
// queries and rows, so an unbounded cache would grow with every distinct
// pattern a long-running server ever saw.
const regexCacheSize = 512

var regexCache = newRegexCache(regexCacheSize)

// CompileRegex compiles a VQL pattern: case-insensitive, cached because the
// same pattern is applied to every row.
func CompileRegex(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.get(pattern); ok {
		return re, nil
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, err
	}
	regexCache.put(pattern, re)
	return re, nil
}

// compiledCache keeps at most 2×size compiled patterns in two
// generations: new entries go to the current one; when it is full it
// becomes the previous one and the old previous is dropped. A pattern
// found in the previous generation moves back to the current, so the
// patterns in use survive and the rest age out. A hit is lock-free, as
// with a plain sync.Map, and needs no LRU bookkeeping.
type compiledCache struct {
	size      int
	mu        sync.Mutex // serialises put, so rotation happens once
	cur, prev atomic.Pointer[generation]
}

type generation struct {
	m sync.Map // pattern -> *regexp.Regexp
	n int      // entries stored, guarded by compiledCache.mu
}

func newRegexCache(size int) *compiledCache {
	c := &compiledCache{size: size}
	c.cur.Store(&generation{})
	c.prev.Store(&generation{})
	return c
}

func (c *compiledCache) get(pattern string) (*regexp.Regexp, bool) {
	if re, ok := c.cur.Load().m.Load(pattern); ok {
		return re.(*regexp.Regexp), true
	}
	if re, ok := c.prev.Load().m.Load(pattern); ok {
		c.put(pattern, re.(*regexp.Regexp))
		return re.(*regexp.Regexp), true
	}
	return nil, false
}

func (c *compiledCache) put(pattern string, re *regexp.Regexp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.cur.Load()
	if _, ok := cur.m.Load(pattern); ok {
		return
	}
	if cur.n >= c.size {
		c.prev.Store(cur)
		cur = &generation{}
		c.cur.Store(cur)
	}
	cur.m.Store(pattern, re)
	cur.n++
}

// len is how many compiled patterns the cache holds.
func (c *compiledCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.Load().n + c.prev.Load().n
}

// matchesAll lists patterns that match anything, NULL included, as vfilter
// treats them.
func matchesAll(p string) bool { return p == "" || p == "." || p == ".*" }

// RegexMatch is `v =~ pattern`. A string matches its pattern; a list
// matches when any element does; NULL matches only the match-all patterns.
// A bad pattern is an error for the caller to log.
func RegexMatch(v, pattern any) (bool, error) {
	p, ok := pattern.(string)
	if !ok {
		return false, nil
	}
	if matchesAll(p) {
		return true, nil
	}
	re, err := CompileRegex(p)
	if err != nil {
		return false, fmt.Errorf("invalid regular expression %q: %w", p, err)
	}
	return regexMatch(re, v), nil
}

func regexMatch(re *regexp.Regexp, v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return re.MatchString(t)
	case []byte:
		return re.Match(t)
	}
	if l, ok := AsList(v); ok {
		for _, e := range l {
			if regexMatch(re, e) {
				return true
			}
		}
		return false
	}
	if _, ok := ToNumber(v); ok {
		return re.MatchString(fmt.Sprint(v))
	}
	return false
}
