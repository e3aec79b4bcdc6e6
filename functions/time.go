package functions

import (
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Timestamp makes a time from epoch seconds (milli-, micro- and
// nanoseconds are recognised by size, as value.Epoch reads them
// everywhere), a Windows FILETIME, or a date string.
var Timestamp = fn("timestamp", "A timestamp from epoch seconds (or ms/µs/ns), a Windows FILETIME, or a string.",
	[]vql.ArgSpec{
		arg("epoch", vql.TypeAny, false, "Seconds since 1970 (milli-, micro- and nanoseconds are detected)."),
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
			if n.F() <= 0 {
				return nil
			}
			t, err := value.Epoch(n)
			if err != nil {
				c.scope.Errorf("timestamp: %v", err)
				return nil
			}
			return t
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

func parseTime(c call, s string) any {
	t, err := value.ParseTime(s)
	if err != nil {
		c.scope.Errorf("timestamp: %v", err)
		return nil
	}
	return t
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
		secs, ms := c.args.Float("time", 0), c.args.Int("ms", 0)
		if c.args.Failed() {
			return nil
		}
		d, err := value.Seconds(secs + float64(ms)/1e3)
		if err != nil {
			c.scope.Errorf("sleep: %v", err)
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
