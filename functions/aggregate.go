package functions

import (
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Aggregates keep their state per call site in the current aggregate
// context: a running value without GROUP BY, a per-group value with it.

// Count counts its evaluations: 1, 2, 3 …
var Count = fn("count", "Running count of rows (per group with GROUP BY).",
	[]vql.ArgSpec{arg("items", vql.TypeAny, false, "Ignored; kept for compatibility.")},
	func(c call) any {
		n, _ := c.args.AggregateState().(int64)
		n++
		c.args.SetAggregateState(n)
		return n
	})

// Sum adds up item.
var Sum = fn("sum", "Running sum of item (per group with GROUP BY).",
	[]vql.ArgSpec{arg("item", vql.TypeAny, true, "The number to add.")},
	func(c call) any {
		v := c.args.Value("item")
		prev := c.args.AggregateState()
		if prev == nil {
			prev = int64(0)
		}
		if _, ok := value.ToNumber(v); !ok {
			return prev
		}
		total := value.Add(prev, v)
		c.args.SetAggregateState(total)
		return total
	})

// Min keeps the smallest item seen.
var Min = fn("min", "Smallest item so far (per group with GROUP BY).",
	[]vql.ArgSpec{arg("item", vql.TypeAny, true, "The value to compare.")},
	func(c call) any { return extreme(c, -1) })

// Max keeps the largest item seen.
var Max = fn("max", "Largest item so far (per group with GROUP BY).",
	[]vql.ArgSpec{arg("item", vql.TypeAny, true, "The value to compare.")},
	func(c call) any { return extreme(c, 1) })

func extreme(c call, sign int) any {
	v := c.scope.Materialize(c.ctx, c.args.Value("item"))
	prev := c.args.AggregateState()
	if v == nil {
		return prev
	}
	if prev != nil {
		if cmp, ok := value.Compare(v, prev); !ok || cmp*sign <= 0 {
			return prev
		}
	}
	c.args.SetAggregateState(v)
	return v
}

// Enumerate collects every item into a list.
var Enumerate = fn("enumerate", "List of every items value so far (per group with GROUP BY).",
	[]vql.ArgSpec{arg("items", vql.TypeAny, false, "The value to collect.")},
	func(c call) any {
		l, _ := c.args.AggregateState().([]any)
		item := c.scope.Materialize(c.ctx, c.args.Value("items"))
		if !c.args.Hold(item) { // the list would outgrow the query's budget
			return nil
		}
		l = append(l, item)
		c.args.SetAggregateState(l)
		return append([]any(nil), l...)
	})
