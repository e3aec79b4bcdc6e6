package value

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrTimeRange is wrapped by every refusal of ToTime and Epoch: a value that
// names no instant a queue could hold. A start time that silently became
// "the beginning" would replay a whole queue, so such values are refused
// instead of clamped.
var ErrTimeRange = errors.New("not a time vqlq can represent")

// Epoch magnitudes: an epoch is read in the unit its size suggests, the way
// timestamp() reads it, so that seconds, milliseconds, microseconds and
// nanoseconds of any instant between 1973 and 2262 are each understood.
const (
	epochMillis = 1e11 // above this, milliseconds (1e11 s is the year 5138)
	epochMicros = 1e14 // above this, microseconds
	epochNanos  = 1e17 // above this, nanoseconds
)

// TimeLayouts are the string forms of a time that ToTime (and timestamp)
// understand, most specific first.
var TimeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05", "2006-01-02", time.RFC1123Z, time.RFC1123,
}

// ToTime reads v as an instant: a time, an epoch number (see Epoch), a
// numeric string (an epoch as sent in a URL), or a date string in one of
// TimeLayouts. NULL is the zero time: "not given".
func ToTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return t, nil
	case string:
		return ParseTime(t)
	}
	if n, ok := ToNumber(v); ok {
		return Epoch(n)
	}
	return time.Time{}, fmt.Errorf("cannot read a %s as a time", TypeName(v))
}

// ParseTime reads a string as ToTime does.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Epoch(Number{Int: i})
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return Epoch(Number{Float: f, IsFloat: true})
	}
	for _, layout := range TimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (use an epoch or RFC 3339)", s)
}

// Epoch reads a number as seconds since 1970, or as milli-, micro- or
// nanoseconds when its size says so. Integers are read exactly; a float
// keeps its fraction to the nanosecond its precision allows. NaN, the
// infinities and magnitudes past the nanosecond range (the year 2262) are
// refused with ErrTimeRange.
func Epoch(n Number) (time.Time, error) {
	if !n.IsFloat {
		return epochInt(n.Int), nil
	}
	f := n.Float
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return time.Time{}, fmt.Errorf("epoch %v: %w", f, ErrTimeRange)
	case math.Abs(f) >= math.MaxInt64:
		return time.Time{}, fmt.Errorf("epoch %g is out of range (seconds, ms, µs or ns since 1970, up to the year 2262): %w", f, ErrTimeRange)
	case f == math.Trunc(f):
		return epochInt(int64(f)), nil
	}
	switch a := math.Abs(f); {
	case a > epochNanos:
		return time.Unix(0, int64(math.Round(f))).UTC(), nil
	case a > epochMicros:
		return time.Unix(0, int64(math.Round(f*1e3))).UTC(), nil
	case a > epochMillis:
		return time.Unix(0, int64(math.Round(f*1e6))).UTC(), nil
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9))).UTC(), nil
}

func epochInt(i int64) time.Time {
	a := i
	if a < 0 {
		a = -a // MinInt64 stays negative: it is nanoseconds either way
	}
	switch {
	case a > epochNanos || a < 0:
		return time.Unix(0, i).UTC()
	case a > epochMicros:
		return time.UnixMicro(i).UTC()
	case a > epochMillis:
		return time.UnixMilli(i).UTC()
	}
	return time.Unix(i, 0).UTC()
}

// MaxDuration is the longest wait a time.Duration holds (about 292 years).
const MaxDuration = time.Duration(math.MaxInt64)

// Seconds reads a number of seconds as a duration, refusing NaN, negative
// values and waits beyond MaxDuration instead of letting them wrap.
func Seconds(f float64) (time.Duration, error) {
	switch {
	case math.IsNaN(f) || f < 0:
		return 0, fmt.Errorf("%v seconds: %w", f, ErrDurationRange)
	case f*float64(time.Second) >= float64(MaxDuration):
		return 0, fmt.Errorf("%g seconds is out of range (at most %.0f): %w", f, MaxDuration.Seconds(), ErrDurationRange)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// ErrDurationRange is wrapped by Seconds' refusals.
var ErrDurationRange = errors.New("not a duration vqlq can wait")
