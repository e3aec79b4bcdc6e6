package value

import (
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
)

func TestEqual(t *testing.T) {
	d1 := ordereddict.NewDict().Set("a", int64(1)).Set("b", "x")
	d2 := ordereddict.NewDict().Set("b", "x").Set("a", 1.0)
	tests := []struct {
		a, b any
		want bool
	}{
		{nil, nil, true},
		{nil, int64(0), false},
		{int64(1), true, true},
		{int64(0), false, true},
		{int64(1), 1.0, true},
		{1.1, int64(1), false},
		{"1", int64(1), false},
		{"a", "a", true},
		{"a", "A", false},
		{[]any{int64(1), "x"}, []any{1.0, "x"}, true},
		{[]any{int64(1)}, []any{int64(1), int64(2)}, false},
		{d1, d2, true},
		{time.Unix(100, 0), int64(100), true},
		{int32(7), int64(7), true},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v", tt.a, tt.b, got)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b any
		want int
		ok   bool
	}{
		{int64(1), int64(2), -1, true},
		{2.5, int64(2), 1, true},
		{"a", "b", -1, true},
		{"a", int64(1), 0, false},
		{nil, int64(1), 0, false},
		{time.Unix(5, 0), time.Unix(3, 0), 1, true},
		{true, int64(0), 1, true},
	}
	for _, tt := range tests {
		got, ok := Compare(tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Compare(%#v, %#v) = %d, %v", tt.a, tt.b, got, ok)
		}
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"int add", Add(int64(1), int64(2)), int64(3)},
		{"float add", Add(int64(1), 0.5), 1.5},
		{"string concat", Add("a", "b"), "ab"},
		{"string plus number", Add("a", int64(1)), nil},
		{"list append", Add([]any{int64(1)}, int64(2)), []any{int64(1), int64(2)}},
		{"list prepend", Add(int64(0), []any{int64(1)}), []any{int64(0), int64(1)}},
		{"list plus null", Add([]any{int64(1)}, nil), []any{int64(1), nil}},
		{"null plus int", Add(nil, int64(1)), nil},
		{"overflow becomes float", Add(int64(9223372036854775807), int64(1)), 9223372036854775808.0},
		{"sub", Sub(int64(1), int64(3)), int64(-2)},
		{"mul", Mul(int64(65535), int64(65535)), int64(4294836225)},
		{"div is float", Div(int64(4), int64(2)), 2.0},
		{"div by zero", Div(int64(4), int64(0)), nil},
		{"mod", Mod(int64(7), int64(3)), int64(1)},
		{"mod by zero", Mod(int64(7), int64(0)), nil},
		{"neg", Neg(int64(3)), int64(-3)},
		{"neg string", Neg("x"), nil},
	}
	for _, tt := range tests {
		if !Equal(tt.got, tt.want) || (tt.want == nil) != (tt.got == nil) {
			t.Errorf("%s: got %#v want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestTruthy(t *testing.T) {
	falsy := []any{nil, false, int64(0), int64(-3), 0.0, "", []any{}, ordereddict.NewDict()}
	truthy := []any{true, int64(1), 0.5, "x", []any{nil}, ordereddict.NewDict().Set("a", 1), struct{}{}}
	for _, v := range falsy {
		if Truthy(v) {
			t.Errorf("Truthy(%#v) = true", v)
		}
	}
	for _, v := range truthy {
		if !Truthy(v) {
			t.Errorf("Truthy(%#v) = false", v)
		}
	}
}

type host struct {
	Name  string `json:"name"`
	Port  int
	inner int
}

func (h host) Addr() string { return h.Name + ":x" }

func TestMember(t *testing.T) {
	h := host{Name: "a", Port: 22, inner: 1}
	tests := []struct {
		v    any
		name string
		want any
		ok   bool
	}{
		{h, "Name", "a", true},
		{h, "name", "a", true},
		{h, "Port", 22, true},
		{h, "inner", nil, false},
		{h, "Addr", "a:x", true},
		{&h, "Port", 22, true},
		{map[string]any{"k": int64(1)}, "k", int64(1), true},
		{[]any{ordereddict.NewDict().Set("k", int64(1)), ordereddict.NewDict().Set("k", int64(2))}, "k", []any{int64(1), int64(2)}, true},
		{nil, "x", nil, false},
	}
	for _, tt := range tests {
		got, ok := Member(tt.v, tt.name)
		if ok != tt.ok || !Equal(got, tt.want) {
			t.Errorf("Member(%#v, %q) = %#v, %v", tt.v, tt.name, got, ok)
		}
	}
	if keys := Keys(h); len(keys) != 3 || keys[0] != "Name" || keys[1] != "Port" || keys[2] != "Addr" {
		t.Errorf("Keys = %v", keys)
	}
}

func TestIndexSliceIn(t *testing.T) {
	l := []any{int64(0), int64(1), int64(2), int64(3)}
	if got := Index(l, int64(-1)); !Equal(got, int64(3)) {
		t.Errorf("Index -1 = %v", got)
	}
	for _, tt := range []struct {
		v    any
		i    int64
		want any
	}{
		{l, -4, int64(0)},
		{l, -5, int64(3)},
		{l, -22, int64(2)},
		{[]any{"a", "b"}, -20, "a"},
		{[]any{}, -1, nil},
		{l, 9, nil},
		{"Hello", -6, nil},
	} {
		if got := Index(tt.v, tt.i); !Equal(got, tt.want) {
			t.Errorf("Index(%v, %d) = %v, want %v", tt.v, tt.i, got, tt.want)
		}
	}
	if got := Index("Hello", int64(1)); !Equal(got, int64('e')) {
		t.Errorf("string index = %v", got)
	}
	if got := Slice(l, int64(1), int64(-1)); !Equal(got, []any{int64(1), int64(2)}) {
		t.Errorf("Slice = %v", got)
	}
	if got := Slice("Hello", int64(4), int64(2)); got != "" {
		t.Errorf("reversed slice = %q", got)
	}
	if !In(int64(2), l) || In("x", l) || !In("ell", "hello") || In(nil, int64(1)) {
		t.Error("In")
	}
}

func TestRegexMatch(t *testing.T) {
	tests := []struct {
		v, pattern any
		want       bool
	}{
		{"Hello", "^h", true},
		{nil, ".", true},
		{nil, "x", false},
		{[]any{"a", "Hello"}, "he", true},
		{int64(12), "^1", true},
		{"x", nil, false},
	}
	for _, tt := range tests {
		got, err := RegexMatch(tt.v, tt.pattern)
		if err != nil || got != tt.want {
			t.Errorf("RegexMatch(%#v, %#v) = %v, %v", tt.v, tt.pattern, got, err)
		}
	}
	if _, err := RegexMatch("a", "("); err == nil {
		t.Error("bad pattern gave no error")
	}
}
