package functions

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Log writes a message to the query log and returns TRUE. The same message
// is logged at most once per dedup seconds (default 60; -1 logs every time).
var Log = fn("log", "Log a message (formatted with args) at level, at most once per dedup seconds; returns TRUE.",
	[]vql.ArgSpec{
		arg("message", vql.TypeString, true, "The message, a format string if args is given."),
		arg("args", vql.TypeAny, false, "Values for the message's format verbs."),
		arg("level", vql.TypeString, false, "DEBUG, INFO (default), WARN or ERROR."),
		arg("dedup", vql.TypeInt, false, "Seconds during which a repeat is suppressed (default 60, -1 never)."),
	}, func(c call) any {
		msg := c.args.String("message", "")
		level := strings.ToUpper(c.args.String("level", vql.LevelInfo))
		dedup := c.args.Int("dedup", 60)
		if c.args.Failed() {
			return nil
		}
		if c.args.Has("args") {
			v := c.scope.Materialize(c.ctx, c.args.Value("args"))
			if l, ok := value.AsList(v); ok {
				msg = fmt.Sprintf(msg, l...)
			} else {
				msg = fmt.Sprintf(msg, v)
			}
		}
		if dedup > 0 {
			// Each log() call site remembers, for its query, when it last
			// logged each message, so a log() run per row does not flood.
			seen, _ := c.args.AggregateState().(*sync.Map)
			if seen == nil {
				seen = &sync.Map{}
				c.args.SetAggregateState(seen)
			}
			now := time.Now()
			if last, ok := seen.Load(msg); ok && now.Sub(last.(time.Time)) < time.Duration(dedup)*time.Second {
				return true
			}
			seen.Store(msg, now)
		}
		c.scope.Log(level, "%s", msg)
		return true
	})
