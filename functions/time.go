package functions

import (
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// timeLayouts are the string forms timestamp(string=…) understands.
var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05", "2006-01-02", time.RFC1123Z, time.RFC1123,
}

// Timestamp makes a time from epoch seconds (milli- and microseconds are
// recognised by size), a Windows FILETIME, or a date string.
var Timestamp = fn("timestamp", "A timestamp from epoch seconds (or ms/µs), a Windows FILETIME, or a string.",
	[]vql.ArgSpec{
		arg("epoch", vql.TypeAny, false, "Seconds since 1970 (milliseconds and microseconds are detected)."),
		arg("winfiletime", vql.TypeInt, false, "100ns intervals since 1601."),
		arg("string", vql.TypeString, false, "A date such as 2024-08-12T02:15:25Z."),
	}, func(c call) any {
		if c.args.Has("epoch") {
			v := c.args.Value("epoch")
			switch t := v.(type) {
			case time.Time:
				return t
			case string:
				return parseTime(c, t)
			}
			n, ok := value.ToNumber(v)
			if !ok {
				c.scope.Errorf("timestamp: Field epoch should be a number not %T", v)
				return nil
			}
			return fromEpoch(n.F())
		}
		if c.args.Has("winfiletime") {
			ft := c.args.Int("winfiletime", 0)
			if ft <= 0 || c.args.Failed() {
				return nil
			}
			return time.Unix(0, (ft-116444736000000000)*100).UTC()
		}
		if c.args.Has("string") {
			return parseTime(c, c.args.String("string", ""))
		}
		return nil
	})

func fromEpoch(f float64) any {
	switch {
	case f <= 0:
		return nil
	case f > 1e17: // nanoseconds
		return time.Unix(0, int64(f)).UTC()
	case f > 1e14: // microseconds
		return time.UnixMicro(int64(f)).UTC()
	case f > 1e11: // milliseconds
		return time.UnixMilli(int64(f)).UTC()
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

func parseTime(c call, s string) any {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	c.scope.Errorf("timestamp: cannot parse %q as a time", s)
	return nil
}

// Now is the current time in epoch seconds.
var Now = fn("now", "The current time as epoch seconds.", nil,
	func(c call) any { return time.Now().Unix() })

// Sleep waits time seconds (or until the query is cancelled) and returns
// TRUE, so it can gate a WHERE clause.
var Sleep = fn("sleep", "Wait time seconds, then return TRUE (FALSE if the query was cancelled).",
	[]vql.ArgSpec{
		arg("time", vql.TypeFloat, false, "Seconds to wait."),
		arg("ms", vql.TypeInt, false, "Milliseconds to wait."),
	}, func(c call) any {
		d := time.Duration(c.args.Float("time", 0)*float64(time.Second)) + time.Duration(c.args.Int("ms", 0))*time.Millisecond
		if c.args.Failed() {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-c.ctx.Done():
			return false
		}
	})
