package value

import (
	"fmt"
	"testing"
)

// BenchmarkRegexMatch is `x =~ pattern` with a pattern already seen: the
// cost of finding the compiled expression in the cache, and matching.
func BenchmarkRegexMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := RegexMatch("hello world", "WOR"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkRegexMatchParallel is BenchmarkRegexMatch from every core at
// once, as concurrent queries match.
func BenchmarkRegexMatchParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := RegexMatch("hello world", "WOR"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// BenchmarkRegexMatchDistinct uses a new pattern every time, the case the
// cache bound is for: each is compiled, and the cache stays its size.
func BenchmarkRegexMatchDistinct(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := RegexMatch("hello world", fmt.Sprintf("w%d|o", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRegexCacheIsBounded compiles many more distinct patterns than the
// cache keeps: it stays within its bound, and a pattern in steady use
// survives the churn.
func TestRegexCacheIsBounded(t *testing.T) {
	c := newRegexCache(8)
	hot, _ := CompileRegex("hot")
	c.put("hot", hot)
	for i := range 1000 {
		c.put(fmt.Sprintf("p%d", i), hot)
		if _, ok := c.get("hot"); !ok {
			t.Fatalf("the pattern in use was dropped after %d others", i+1)
		}
		if n := c.len(); n > 16 {
			t.Fatalf("cache holds %d patterns, bound is 16", n)
		}
	}
	if _, ok := c.get("p1"); ok {
		t.Error("an old pattern is still cached")
	}
	// The process-wide cache CompileRegex uses is bounded the same way.
	for i := range 3 * regexCacheSize {
		if _, err := CompileRegex(fmt.Sprintf("x%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := regexCache.len(); n > 2*regexCacheSize {
		t.Errorf("regex cache holds %d patterns, bound is %d", n, 2*regexCacheSize)
	}
}
