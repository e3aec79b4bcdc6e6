package value

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
)

// The fast encoder must write what encoding/json writes (without HTML
// escaping) for every value it handles itself.
func TestEncodeJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, int64(-42), 0, 1.5, 0.0, 1e21, 1e20, 1e-7, 123456789.125, 3.0,
		"plain", "quote \" backslash \\ slash /", "tab\tnl\nret\r", "\x00\x1f\x7f", "<&>", "é ü 日本",
		"bad \xff utf8", "line\u2028sep\u2029", []any{int64(1), "a", nil, []any{}},
		ordereddict.NewDict().Set("b", int64(1)).Set("a", ordereddict.NewDict().Set("x", []any{1.25})),
	}
	for _, v := range values {
		got, err := EncodeJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if d, ok := v.(*ordereddict.Dict); ok {
			want, _ = d.MarshalJSON()
		}
		if string(got) != string(unescapeHTML(want)) {
			t.Errorf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
	ts := time.Date(2024, 8, 12, 2, 16, 25, 500, time.UTC)
	if got, _ := EncodeJSON(ts); string(got) != `"2024-08-12T02:16:25.0000005Z"` {
		t.Errorf("time: %s", got)
	}
	if got, _ := EncodeJSON(math.NaN()); string(got) != "null" {
		t.Errorf("NaN: %s", got)
	}
}

// unescapeHTML undoes encoding/json's HTML escaping of <, > and &.
func unescapeHTML(b []byte) []byte {
	s := string(b)
	for _, r := range [][2]string{{`\u003c`, "<"}, {`\u003e`, ">"}, {`\u0026`, "&"}} {
		for {
			i := indexOf(s, r[0])
			if i < 0 {
				break
			}
			s = s[:i] + r[1] + s[i+len(r[0]):]
		}
	}
	return []byte(s)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestDecodeJSONKeepsOrderAndInts(t *testing.T) {
	v, err := DecodeJSON([]byte(`{"b":1,"a":[2.5,"x",null,true],"c":{"z":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := EncodeJSON(v)
	if string(got) != `{"b":1,"a":[2.5,"x",null,true],"c":{"z":1}}` {
		t.Errorf("round trip %s", got)
	}
	if d := v.(*ordereddict.Dict); !Equal(must(d.Get("b")), int64(1)) {
		t.Error("whole number not int64")
	}
	if _, err := DecodeJSON([]byte(`{"a":1} x`)); err == nil {
		t.Error("trailing data accepted")
	}
}

func must(v any, _ bool) any { return v }
