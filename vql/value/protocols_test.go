package value

import (
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
)

// The tests of this file pin the operator semantics Velociraptor's
// artifacts rely on beyond vfilter's core: dict merging, string
// repetition, times against strings, and regular expressions on values
// that are not strings.

func TestAddMergesDictsAndConcatenatesLists(t *testing.T) {
	a := ordereddict.NewDict().Set("a", int64(1)).Set("c", "old")
	b := ordereddict.NewDict().Set("b", int64(2)).Set("c", "new")
	tests := []struct {
		name string
		a, b any
		want string // JSON
	}{
		{"dict + dict merges, a key of both taking b's value and place", a, b, `{"a":1,"b":2,"c":"new"}`},
		{"dict + empty dict copies", a, ordereddict.NewDict(), `{"a":1,"c":"old"}`},
		{"list + list concatenates", []any{int64(1), int64(2)}, []any{int64(3), int64(4)}, `[1,2,3,4]`},
		{"list + scalar appends", []any{int64(1)}, "x", `[1,"x"]`},
		{"scalar + list prepends", int64(0), []any{int64(1)}, `[0,1]`},
		{"dict + number is NULL", a, int64(1), `null`},
		{"dict + list appends the dict", []any{int64(1)}, b, `[1,{"b":2,"c":"new"}]`},
		{"strings concatenate", "ab", "cd", `"abcd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeJSON(Add(tt.a, tt.b))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Add = %s, want %s", got, tt.want)
			}
		})
	}
	// The merge is a new dict: neither operand changes.
	if got, _ := EncodeJSON(a); string(got) != `{"a":1,"c":"old"}` {
		t.Errorf("left operand changed: %s", got)
	}
}

func TestMulRepeatsStrings(t *testing.T) {
	tests := []struct {
		name string
		a, b any
		want any
	}{
		{"string * int", "ab", int64(3), "ababab"},
		{"int * string", int64(2), "xy", "xyxy"},
		{"once", "ab", int64(1), "ab"},
		{"zero times", "ab", int64(0), ""},
		{"negative times", "ab", int64(-2), ""},
		{"a float count is NULL", "ab", 1.5, nil},
		{"string * string is NULL", "ab", "3", nil},
		{"NULL count is NULL", "ab", nil, nil},
		{"past the size bound is NULL", "ab", int64(MaxBuiltString), nil},
		{"numbers still multiply", int64(6), int64(7), int64(42)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mul(tt.a, tt.b); got != tt.want {
				t.Errorf("Mul(%#v, %#v) = %#v, want %#v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestCompareTimesWithText(t *testing.T) {
	ts := time.Unix(1723428985, 0).UTC() // 2024-08-12T02:16:25Z
	tests := []struct {
		name string
		a, b any
		want int
		ok   bool
	}{
		{"time > earlier RFC 3339", ts, "2024-08-12T02:15:25.176Z", 1, true},
		{"earlier RFC 3339 < time", "2024-08-12T02:15:25.176Z", ts, -1, true},
		{"time < later date", ts, "2024-08-13", -1, true},
		{"later date > time", "2024-08-13", ts, 1, true},
		{"equal instants", "2024-08-12T04:16:25+02:00", ts, 0, true},
		{"a guessed date", ts, "March 3 2019", 1, true},
		{"text that is no time", ts, "soon", 0, false},
		{"strings stay strings", "2024-08-13", "2024-08-12T02:15:25Z", 1, true},
		{"time against an int epoch", ts, int64(1118628985), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Compare(tt.a, tt.b)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Compare(%v, %v) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRegexMatchesTheTextOfDictsAndTimes(t *testing.T) {
	d := ordereddict.NewDict().Set("Name", "svchost.exe").Set("Pid", int64(4))
	ts := time.Date(2024, 8, 12, 2, 16, 25, 0, time.UTC)
	tests := []struct {
		name    string
		v       any
		pattern string
		want    bool
	}{
		{"dict by a value", d, "svchost", true},
		{"dict by its JSON", d, `"Pid":4`, true},
		{"dict without the text", d, "lsass", false},
		{"map by a key", map[string]any{"Key": "v"}, "key", true},
		{"time by its date", ts, "^2024-08-12T", true},
		{"time in RFC 3339, UTC", ts, "02:16:25Z$", true},
		{"time by another year", ts, "^2023", false},
		{"number by its digits", int64(1234), "^12", true},
		{"list by an element", []any{"a", d}, "svchost", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RegexMatch(tt.v, tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%v =~ %q = %v, want %v", tt.v, tt.pattern, got, tt.want)
			}
		})
	}
}

func TestParseTimeInReadsVelociraptorsFormats(t *testing.T) {
	brisbane, err := time.LoadLocation("Australia/Brisbane")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	tests := []struct {
		name string
		in   string
		loc  *time.Location
		want string
	}{
		{"month day year", "March 3 2019", time.UTC, "2019-03-03T00:00:00Z"},
		{"month day year in PARSE_TZ", "March 3 2019", brisbane, "2019-03-02T14:00:00Z"},
		{"US date, 5pm", "07/25/2019 5:00 PM", time.UTC, "2019-07-25T17:00:00Z"},
		{"RFC 1123", "Mon, 02 Jan 2006 15:04:05 GMT", brisbane, "2006-01-02T15:04:05Z"},
		{"RFC 1123 with an offset", "Mon, 02 Jan 2006 15:04:05 -0700", time.UTC, "2006-01-02T22:04:05Z"},
		{"SQL date and time", "2006-01-02 15:04:05", time.UTC, "2006-01-02T15:04:05Z"},
		{"SQL date and time in PARSE_TZ", "2006-01-02 15:04:05", brisbane, "2006-01-02T05:04:05Z"},
		{"ISO without a zone in PARSE_TZ", "2021-10-01T10:53:32", brisbane, "2021-10-01T00:53:32Z"},
		{"ISO with Z ignores PARSE_TZ", "2021-10-01T10:53:32Z", brisbane, "2021-10-01T10:53:32Z"},
		{"ISO with a fraction and Z ignores PARSE_TZ", "2024-08-12T02:15:25.176Z", brisbane, "2024-08-12T02:15:25.176Z"},
		{"ANSI C", "Mon Jan  2 15:04:05 2006", time.UTC, "2006-01-02T15:04:05Z"},
		{"day month year", "3 March 2019", time.UTC, "2019-03-03T00:00:00Z"},
		{"an epoch in text", "1723428985", brisbane, "2024-08-12T02:16:25Z"},
		{"unix date with a zone name", "Sun Jan 11 12:00:00 UTC 2020", brisbane, "2020-01-11T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTimeIn(tt.in, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if s := TimeText(got); s != tt.want {
				t.Errorf("ParseTimeIn(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "yesterday", "25/13/2019", strings.Repeat("9", 5) + " o'clock"} {
		if got, err := ParseTimeIn(bad, time.UTC); err == nil {
			t.Errorf("ParseTimeIn(%q) = %v, want an error", bad, got)
		}
	}
}

func TestTimeStringIsRFC3339(t *testing.T) {
	ts := time.Date(2019, 3, 2, 14, 0, 0, 0, time.FixedZone("AEST", 10*3600))
	got, ok := Member(ts, "String")
	if !ok || got != "2019-03-02T04:00:00Z" {
		t.Errorf("time.String = %#v, %v; want 2019-03-02T04:00:00Z", got, ok)
	}
	if got, ok := Member(ts, "Unix"); !ok || got != ts.Unix() {
		t.Errorf("time.Unix = %#v, %v", got, ok)
	}
}

// FuzzParseTimeIn: no text makes the time reader panic (the date guesser
// is a third-party library), and every time it reads is in UTC.
func FuzzParseTimeIn(f *testing.F) {
	for _, s := range []string{"March 3 2019", "07/25/2019 5pm", "2024-08-12T02:15:25.176Z", "Mon, 02 Jan 2006 15:04:05 MST", "1723428985", "12/31", "3 oct 70 4:05:06.7 pm +0130"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimeIn(s, time.FixedZone("X", 3600))
		if err == nil && got.Location() != time.UTC {
			t.Errorf("ParseTimeIn(%q) = %v, not in UTC", s, got)
		}
	})
}

// BenchmarkCompareTimeText is `Time < 'text'` for one row: the text is
// read as a time at every comparison (cached past the RFC 3339 fast path).
func BenchmarkCompareTimeText(b *testing.B) {
	ts := time.Unix(1723428985, 0).UTC()
	for _, text := range []string{"2024-08-12T02:15:25Z", "2024-08-12 02:15:25", "March 3 2019"} {
		b.Run(text, func(b *testing.B) {
			for b.Loop() {
				if _, ok := Compare(ts, text); !ok {
					b.Fatal("not ordered")
				}
			}
		})
	}
}
