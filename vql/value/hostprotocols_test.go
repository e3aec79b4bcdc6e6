package value

import (
	"reflect"
	"testing"
)

// span is a host type for the protocol tests: a run of integers [lo, hi)
// that extends with + n, slices into a shorter span and compares by
// length with another span or a number.
type span struct{ lo, hi int64 }

func (s span) Add(other any) (any, bool) {
	n, ok := other.(int64)
	if !ok {
		return nil, false
	}
	return span{s.lo, s.hi + n}, true
}

func (s span) Slice(lo, hi any) (any, bool) {
	l, _ := lo.(int64)
	h, ok := hi.(int64)
	if !ok {
		h = s.hi - s.lo
	}
	return span{s.lo + l, s.lo + h}, true
}

func (s span) Compare(other any) (int, bool) {
	n := s.hi - s.lo
	switch o := other.(type) {
	case span:
		return cmpInt(n, o.hi-o.lo), true
	case int64:
		return cmpInt(n, o), true
	}
	return 0, false
}

func TestHostProtocols(t *testing.T) {
	s := span{0, 3}
	for _, tt := range []struct {
		name string
		got  any
		want any
	}{
		{"Adder on the left decides", Add(s, int64(2)), span{0, 5}},
		{"Adder refusing leaves the built-in rules (list + value)", Add(s, []any{int64(1)}), []any{s, int64(1)}},
		{"no Adder on the right", Add(int64(2), s), nil},
		{"the protocol holds in vfilter's core too", Operators{VfilterCore: true}.Add(s, int64(1)), span{0, 4}},
		{"Slicer with both bounds", Slice(s, int64(1), int64(2)), span{1, 2}},
		{"Slicer with no high bound", Slice(s, int64(1), nil), span{1, 3}},
		{"Comparer equal", Equal(s, int64(3)), true},
		{"Comparer equal, on the right", Equal(int64(3), s), true},
		{"Comparer unequal", Equal(s, span{5, 7}), false},
		{"Comparer that cannot compare is not equal", Equal(s, "3"), false},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
	for _, tt := range []struct {
		name string
		a, b any
		c    int
		ok   bool
	}{
		{"left below", s, int64(4), -1, true},
		{"left above", s, span{0, 1}, 1, true},
		{"right side reverses", int64(4), s, 1, true},
		{"right side equal", int64(3), s, 0, true},
		{"cannot compare", s, "x", 0, false},
		{"NULL first", nil, s, 0, false},
	} {
		if c, ok := Compare(tt.a, tt.b); c != tt.c || ok != tt.ok {
			t.Errorf("%s: Compare = %d, %v; want %d, %v", tt.name, c, ok, tt.c, tt.ok)
		}
	}
}

// BenchmarkAddIntsWithProtocols is `+` on two integers, the common case,
// which now first asks whether the left operand is an Adder.
func BenchmarkAddIntsWithProtocols(b *testing.B) {
	var x any = int64(1)
	for b.Loop() {
		x = Add(x, int64(1))
	}
}

// BenchmarkCompareHostType is `<` through a Comparer.
func BenchmarkCompareHostType(b *testing.B) {
	s, n := span{0, 3}, any(int64(4))
	for b.Loop() {
		if c, ok := Compare(s, n); !ok || c >= 0 {
			b.Fatal(c, ok)
		}
	}
}
