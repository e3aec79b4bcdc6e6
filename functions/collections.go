package functions

import (
	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Setter is a keyed value set() can change in place besides a dict: the
// lru() cache is one.
type Setter interface {
	Set(key string, v any)
}

// ToDict builds a dict from {_key, _value} rows (what items() yields); a
// dict is returned as it is.
var ToDict = fn("to_dict", "A dict built from rows or dicts of {_key, _value} (a list or a query).",
	[]vql.ArgSpec{arg("item", vql.TypeAny, true, "Rows with _key and _value, or a dict.")},
	func(c call) any {
		v, _ := c.args.Get("item")
		if d, ok := c.scope.Resolve(c.ctx, v).(*ordereddict.Dict); ok {
			if _, isPair := d.Get("_key"); !isPair {
				return d
			}
		}
		out := ordereddict.NewDict()
		for row := range c.scope.RowsOf(c.ctx, v) {
			k, ok := value.Member(row, "_key")
			if !ok {
				continue
			}
			val, _ := value.Member(row, "_value")
			out.Set(toString(k), c.scope.Materialize(c.ctx, val))
		}
		return out
	})

// ItemsFn is the function form of items(): a list of {_key, _value}.
var ItemsFn = fn("items", "A list of {_key, _value}, one per member of a dict (or element of a list).",
	[]vql.ArgSpec{arg("item", vql.TypeAny, true, "The dict or list.")},
	func(c call) any {
		item := c.scope.Materialize(c.ctx, c.args.Value("item"))
		out := []any{}
		pair := func(k, v any) { out = append(out, ordereddict.NewDict().Set("_key", k).Set("_value", v)) }
		if l, ok := value.AsList(item); ok {
			for i, e := range l {
				pair(int64(i), e)
			}
			return out
		}
		for _, k := range value.Keys(item) {
			v, _ := value.Member(item, k)
			pair(k, v)
		}
		return out
	})

// Set changes a member of a dict in place and returns the dict, so that
// a LET-bound dict (or an lru()) can be used as mutable state.
var Set = fn("set", "Set field of a dict (changing it in place) to value; the dict is returned.",
	[]vql.ArgSpec{
		arg("item", vql.TypeAny, true, "The dict (or lru) to change."),
		arg("field", vql.TypeString, true, "The member to set."),
		arg("value", vql.TypeAny, true, "The new value."),
	}, func(c call) any {
		item := c.args.Value("item")
		field := c.args.String("field", "")
		v := c.scope.Materialize(c.ctx, c.args.Value("value"))
		if c.args.Failed() {
			return nil
		}
		switch t := item.(type) {
		case *ordereddict.Dict:
			t.Update(field, v)
		case Setter:
			t.Set(field, v)
		default:
			c.scope.Errorf("set: Field item should be a dict not %s", value.TypeName(item))
			return nil
		}
		return item
	})

// listArg reads a list argument; a single value is a list of one, NULL
// an empty list.
func listArg(c call, name string) []any {
	v := c.scope.Materialize(c.ctx, c.args.Value(name))
	if v == nil {
		return []any{}
	}
	if l, ok := value.AsList(v); ok {
		return l
	}
	return []any{v}
}

// elementTest builds the element test of filter(), all() and any(): the
// element (as a string) matches one of the regex argument's patterns, and
// the lambda argument named lambdaName is true of it; with neither, the
// element's own truth.
func elementTest(c call, lambdaName string) (func(any) bool, bool) {
	res, ok := compileAll(c, c.args.Strings("regex"))
	if !ok || c.args.Failed() {
		return nil, false
	}
	var cond *lambda
	if c.args.Has(lambdaName) {
		if cond, ok = lambdaArg(c, lambdaName); !ok {
			return nil, false
		}
	}
	return func(e any) bool {
		if len(res) > 0 && !anyMatch(res, toString(e)) {
			return false
		}
		if cond != nil {
			return cond.truthy(c, e)
		}
		return len(res) > 0 || value.Truthy(e)
	}, true
}

// Filter keeps the elements that match a regex or a condition lambda.
var Filter = fn("filter", "The elements of list that match regex (as strings) or for which condition (a lambda) is true.",
	[]vql.ArgSpec{
		arg("list", vql.TypeList, true, "The list to filter."),
		arg("regex", vql.TypeList, false, "Keep elements matching any of these regexes."),
		arg("condition", vql.TypeString, false, "Keep elements for which this lambda (x => …) is true."),
	}, func(c call) any {
		list := listArg(c, "list")
		test, ok := elementTest(c, "condition")
		if !ok {
			return nil
		}
		out := []any{}
		for _, e := range list {
			if test(e) {
				out = append(out, e)
			}
		}
		return out
	})

// quantifier declares all() and any(): each tests the elements of items
// against regex or a condition lambda.
func quantifier(name, doc string, all bool) vql.FunctionFunc {
	return fn(name, doc, []vql.ArgSpec{
		arg("items", vql.TypeAny, true, "A list, a query or a single value."),
		arg("regex", vql.TypeList, false, "The elements (as strings) must match one of these."),
		arg("filter", vql.TypeString, false, "A lambda (x => …) the elements must satisfy."),
	}, func(c call) any {
		test, ok := elementTest(c, "filter")
		if !ok {
			return nil
		}
		v, _ := c.args.Get("items")
		for e := range c.scope.RowsOf(c.ctx, v) {
			if test(c.scope.Materialize(c.ctx, e)) != all {
				return !all
			}
		}
		return all
	})
}

// AllOf is true when every element satisfies the test.
var AllOf = quantifier("all", "TRUE when every element of items matches regex or satisfies filter (TRUE for none).", true)

// AnyOf is true when some element satisfies the test.
var AnyOf = quantifier("any", "TRUE when some element of items matches regex or satisfies filter.", false)

// Slice is a part of a list.
var Slice = fn("slice", "The elements of list from start up to (not including) end; negative bounds count from the end.",
	[]vql.ArgSpec{
		arg("list", vql.TypeList, true, "The list."),
		arg("start", vql.TypeInt, false, "First index (default 0)."),
		arg("end", vql.TypeInt, false, "Stop before this index (default: the end)."),
	}, func(c call) any {
		list := listArg(c, "list")
		start, end := c.args.Value("start"), c.args.Value("end")
		if c.args.Failed() {
			return nil
		}
		return value.Slice(list, start, end)
	})

// Similarity compares two dicts: the share of the keys either has for
// which both hold equal values (1 for equal dicts, 0 for nothing in
// common).
var Similarity = fn("similarity", "How alike two dicts are, from 0 to 1: the share of all their keys that both hold with equal values.",
	[]vql.ArgSpec{
		arg("set1", vql.TypeDict, true, "The first dict."),
		arg("set2", vql.TypeDict, true, "The second dict."),
	}, func(c call) any {
		a := c.scope.Materialize(c.ctx, c.args.Value("set1"))
		b := c.scope.Materialize(c.ctx, c.args.Value("set2"))
		keys := map[string]bool{}
		for _, k := range value.Keys(a) {
			keys[k] = true
		}
		for _, k := range value.Keys(b) {
			keys[k] = true
		}
		if len(keys) == 0 {
			return float64(1)
		}
		same := 0
		for k := range keys {
			va, okA := value.Member(a, k)
			vb, okB := value.Member(b, k)
			if okA && okB && value.Equal(va, vb) {
				same++
			}
		}
		return float64(same) / float64(len(keys))
	})
