package value

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestToTimeReadsEpochsInEveryUnit(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 30, 15, 123456789, time.UTC)
	tests := []struct {
		name string
		in   any
		want time.Time
	}{
		{"seconds", at.Unix(), at.Truncate(time.Second)},
		{"milliseconds", at.UnixMilli(), at.Truncate(time.Millisecond)},
		{"microseconds", at.UnixMicro(), at.Truncate(time.Microsecond)},
		{"nanoseconds", at.UnixNano(), at},
		{"fractional seconds", float64(at.Unix()) + 0.5, at.Truncate(time.Second).Add(500 * time.Millisecond)},
		{"seconds as a float", float64(at.Unix()), at.Truncate(time.Second)},
		{"milliseconds as a float", float64(at.UnixMilli()), at.Truncate(time.Millisecond)},
		{"uint64 nanoseconds", uint64(at.UnixNano()), at},
		{"int32 seconds", int32(at.Unix()), at.Truncate(time.Second)},
		{"seconds in a URL", "1796203815", at.Truncate(time.Second)},
		{"milliseconds in a URL", "1796203815123", at.Truncate(time.Millisecond)},
		{"nanoseconds in a URL", "1796203815123456789", at},
		{"RFC 3339", "2026-12-02T09:30:15.123456789Z", at},
		{"RFC 3339 with an offset", "2026-12-02T10:30:15.123456789+01:00", at},
		{"date and time", "2026-12-02 09:30:15", at.Truncate(time.Second)},
		{"the epoch", int64(0), time.Unix(0, 0).UTC()},
		{"before the epoch", int64(-86400), time.Unix(-86400, 0).UTC()},
		{"a time", at, at},
		{"NULL is not given", nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToTime(tt.in)
			if err != nil {
				t.Fatalf("ToTime(%#v): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ToTime(%#v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestToTimeRefusesWhatIsNoTime(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
		is   error
	}{
		{"1e300", 1e300, "epoch 1e+300 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent", ErrTimeRange},
		{"-1e300", -1e300, "epoch -1e+300 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent", ErrTimeRange},
		{"NaN", math.NaN(), "epoch NaN: not a time vqlq can represent", ErrTimeRange},
		{"Inf", math.Inf(1), "epoch +Inf: not a time vqlq can represent", ErrTimeRange},
		{"1e300 in a URL", "1e300", "epoch 1e+300 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent", ErrTimeRange},
		{"1e400 in a URL", "1e400", "epoch +Inf: not a time vqlq can represent", ErrTimeRange},
		{"NaN in a URL", "NaN", "epoch NaN: not a time vqlq can represent", ErrTimeRange},
		{"Inf in a URL", "Inf", "epoch +Inf: not a time vqlq can represent", ErrTimeRange},
		{"past the nanosecond range", "99999999999999999999", "epoch 1e+20 is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): not a time vqlq can represent", ErrTimeRange},
		{"words", "yesterday", `cannot read "yesterday" as a time (use an epoch or RFC 3339)`, nil},
		{"a list", []any{int64(1)}, "cannot read a list as a time", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToTime(tt.in)
			if err == nil {
				t.Fatalf("ToTime(%#v) = %v, want an error", tt.in, got)
			}
			if err.Error() != tt.want {
				t.Errorf("ToTime(%#v): %q, want %q", tt.in, err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("ToTime(%#v): %v is not %v", tt.in, err, tt.is)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		in   float64
		want time.Duration
		err  string
	}{
		{0, 0, ""},
		{1.5, 1500 * time.Millisecond, ""},
		{1e300, 0, "1e+300 seconds is out of range (at most 9223372037): not a duration vqlq can wait"},
		{math.Inf(1), 0, "+Inf seconds is out of range (at most 9223372037): not a duration vqlq can wait"},
		{math.NaN(), 0, "NaN seconds: not a duration vqlq can wait"},
		{-1, 0, "-1 seconds: not a duration vqlq can wait"},
	}
	for _, tt := range tests {
		got, err := Seconds(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrDurationRange) {
				t.Errorf("Seconds(%v) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Seconds(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
