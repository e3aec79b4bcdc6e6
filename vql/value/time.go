package value

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/araddon/dateparse"
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
// read first, exactly, most specific first; any other text is guessed (see
// ParseTimeIn).
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

// ParseTime reads a string as ToTime does, a time without a zone being UTC.
func ParseTime(s string) (time.Time, error) { return ParseTimeIn(s, time.UTC) }

// ParseTimeIn reads a string as a time the way Velociraptor's timestamp()
// does: a number is an epoch (see Epoch); one of TimeLayouts is read
// exactly; anything else is guessed from its shape (`March 3 2019`,
// `07/25/2019 5pm`, `Mon Jan 2 15:04:05 2006`, month first when the order
// is ambiguous). A time written without a zone is in loc (PARSE_TZ in
// VQL). The result is in UTC.
func ParseTimeIn(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if numericText(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return Epoch(Number{Int: i})
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return Epoch(Number{Float: f, IsFloat: true})
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if len(s) > maxCachedText {
		return parseText(s, loc)
	}
	key := loc.String() + "\x00" + s
	if g, ok := parsedCache.get(key); ok {
		return g.t, g.err
	}
	t, err := parseText(s, loc)
	parsedCache.put(key, guessed{t, err})
	return t, err
}

// numericText reports whether s is written as a decimal number (or NaN or
// an infinity), so that dates are not first tried, at the cost of an
// error each, as numbers: a WHERE compares every row with the same text.
func numericText(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	switch strings.ToLower(s) {
	case "inf", "infinity", "nan":
		return true
	}
	i, digits := 0, false
	for ; i < len(s) && (isDigit(s[i]) || s[i] == '.'); i++ {
		digits = digits || s[i] != '.'
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return digits && i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// maxCachedText bounds the texts parsedCache keeps: no date is longer,
// and a long text compared with a time must not stay in memory.
const maxCachedText = 128

// parsedCache keeps what parseText made of a text: a query compares every
// row with the same date written as text, and trying the layouts and
// guessing cost more than the comparison.
var parsedCache = newBoundedCache[guessed](512)

// parseText tries TimeLayouts, then guesses.
func parseText(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range TimeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	if s != "" {
		if t, err := guessTime(s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (use an epoch or RFC 3339)", s)
}

// guessTime reads the many shapes of a date that dateparse knows. It is
// kept behind the exact layouts: it is slower, and for RFC 3339 text with
// a fraction it would take the zone from loc rather than from the text.
// dateparse is the same guesser Velociraptor's own golden output agrees
// with (`07/25/2019 5pm` included), and a panic in it on some odd input
// must not take the query down.
func guessTime(s string, loc *time.Location) (t time.Time, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read %q as a time", s)
		}
	}()
	return dateparse.ParseIn(s, loc)
}

// guessed is a cached reading of a text: the time or the error.
type guessed struct {
	t   time.Time
	err error
}

// TimeText is the text of a time in VQL: RFC 3339 in UTC, to the
// nanosecond when there is a fraction (as JSON shows it and `.String` and
// `=~` read it).
func TimeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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

// FileTime is a Windows FILETIME (100 ns intervals since 1601) as a time,
// in whole seconds and the rest, so that no value overflows.
func FileTime(ft int64) time.Time {
	const unixAt = 11644473600 // seconds from 1601 to 1970
	return time.Unix(ft/10000000-unixAt, (ft%10000000)*100).UTC()
}
