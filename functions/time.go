package functions

import (
	"strings"
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Timestamp makes a time from epoch seconds (milli-, micro- and
// nanoseconds are recognised by size, as value.Epoch reads them
// everywhere), a Windows FILETIME, a Cocoa or HFS+ time, or a string:
// one in a Go layout given as format, or else one whose shape is guessed
// (value.ParseTimeIn). A string without a zone is in timezone, else in
// the PARSE_TZ variable's zone, else UTC.
var Timestamp = fn("timestamp", "A timestamp from epoch seconds (or ms/µs/ns), a Windows FILETIME, a Cocoa or HFS+ time, or a string.",
	[]vql.ArgSpec{
		arg("epoch", vql.TypeAny, false, "Seconds since 1970 (milli-, micro- and nanoseconds are detected), a numeric string, or a date string."),
		arg("cocoatime", vql.TypeInt, false, "Seconds since 2001 (macOS Cocoa)."),
		arg("mactime", vql.TypeInt, false, "Seconds since 1904 (HFS+)."),
		arg("winfiletime", vql.TypeInt, false, "100ns intervals since 1601."),
		arg("string", vql.TypeString, false, "A date such as 2024-08-12T02:15:25Z, 2006-01-02 15:04:05 or March 3 2019."),
		arg("format", vql.TypeString, false, "A Go time layout to read string with (1/2/2006 3:04:05 PM)."),
		arg("timezone", vql.TypeString, false, "The zone of a string without one (default: PARSE_TZ, else UTC)."),
	}, func(c call) any {
		switch {
		case c.args.Has("cocoatime"):
			return sinceBase(c, "cocoatime", 978307200)
		case c.args.Has("mactime"):
			return sinceBase(c, "mactime", -2082844800)
		case c.args.Has("winfiletime"):
			ft := c.args.Int("winfiletime", 0)
			if ft <= 0 || c.args.Failed() {
				return nil
			}
			return value.FileTime(ft)
		case c.args.Has("string"):
			return parseTime(c, c.args.String("string", ""))
		case c.args.Has("epoch"):
			v := c.args.Value("epoch")
			switch t := v.(type) {
			case nil:
				return nil
			case time.Time:
				return t.UTC()
			case string:
				return parseTime(c, t)
			}
			n, ok := value.ToNumber(v)
			if !ok {
				c.scope.Errorf("timestamp: Field epoch should be a number not %s", value.TypeName(v))
				return nil
			}
			t, err := value.Epoch(n)
			if err != nil {
				c.scope.Errorf("timestamp: %v", err)
				return nil
			}
			return t
		}
		return nil
	})

// sinceBase reads an integer argument as seconds since a base given as
// its offset from 1970.
func sinceBase(c call, name string, base int64) any {
	secs := c.args.Int(name, 0)
	if secs <= 0 || c.args.Failed() {
		return nil
	}
	return time.Unix(secs+base, 0).UTC()
}

// parseTime reads a string argument of timestamp(): with the format
// argument when there is one, in the zone of timezone or PARSE_TZ. An
// empty string is NULL.
func parseTime(c call, s string) any {
	if c.args.Failed() || strings.TrimSpace(s) == "" {
		return nil
	}
	loc, ok := zoneArg(c, "timestamp", "timezone", "PARSE_TZ")
	if !ok {
		return nil
	}
	if layout := c.args.String("format", ""); layout != "" {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			c.scope.Errorf("timestamp: %q does not match format %q: %v", s, layout, err)
			return nil
		}
		return t.UTC()
	}
	t, err := value.ParseTimeIn(s, loc)
	if err != nil {
		c.scope.Errorf("timestamp: %v", err)
		return nil
	}
	return t
}

// zoneArg is the time zone named by the argument arg, else by the
// variable name, else UTC. A zone that does not exist is logged and ok is
// false.
func zoneArg(c call, callee, arg, variable string) (*time.Location, bool) {
	var zone string
	if arg != "" {
		zone = c.args.String(arg, "")
	}
	from := arg
	if zone == "" {
		v, _ := c.scope.Var(c.ctx, variable)
		zone, _ = v.(string)
		from = variable
	}
	if zone == "" {
		return time.UTC, true
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		c.scope.Errorf("%s: %s names no time zone %q (use a name such as UTC or Europe/Berlin)", callee, from, zone)
		return nil, false
	}
	return loc, true
}

// TimestampFormat formats a time with a Go layout or the name of one of
// Go's layout constants (RFC3339, RFC1123, Kitchen, DateTime…), in the
// zone of the TZ variable (default UTC), as Velociraptor's does.
var TimestampFormat = fn("timestamp_format", "Format a time with a Go layout or a name such as RFC3339 (default), in the zone of TZ (default UTC).",
	[]vql.ArgSpec{
		arg("time", vql.TypeAny, true, "The time: a timestamp, an epoch or a date string."),
		arg("format", vql.TypeString, false, "A Go layout (2006-01-02 15:04) or a constant's name (RFC3339, RFC1123, Kitchen, DateTime, …)."),
	}, func(c call) any {
		v := c.args.Value("time")
		layout := c.args.String("format", "RFC3339")
		if c.args.Failed() || v == nil {
			return nil
		}
		t, ok := v.(time.Time)
		if !ok {
			var err error
			if s, isText := v.(string); isText {
				loc, ok := zoneArg(c, "timestamp_format", "", "PARSE_TZ")
				if !ok {
					return nil
				}
				t, err = value.ParseTimeIn(s, loc)
			} else {
				t, err = value.ToTime(v)
			}
			if err != nil {
				c.scope.Errorf("timestamp_format: %v", err)
				return nil
			}
		}
		loc, ok := zoneArg(c, "timestamp_format", "", "TZ")
		if !ok {
			return nil
		}
		if named, ok := goLayouts[layout]; ok {
			layout = named
		}
		return t.In(loc).Format(layout)
	})

// goLayouts are the layout constants of Go's time package by name.
var goLayouts = map[string]string{
	"Layout": time.Layout, "ANSIC": time.ANSIC, "UnixDate": time.UnixDate, "RubyDate": time.RubyDate,
	"RFC822": time.RFC822, "RFC822Z": time.RFC822Z, "RFC850": time.RFC850,
	"RFC1123": time.RFC1123, "RFC1123Z": time.RFC1123Z, "RFC3339": time.RFC3339, "RFC3339Nano": time.RFC3339Nano,
	"Kitchen": time.Kitchen, "Stamp": time.Stamp, "StampMilli": time.StampMilli, "StampMicro": time.StampMicro,
	"StampNano": time.StampNano, "DateTime": time.DateTime, "DateOnly": time.DateOnly, "TimeOnly": time.TimeOnly,
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
