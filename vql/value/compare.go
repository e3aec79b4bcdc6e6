package value

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
)

// Equal is VQL's `=`: numeric across ints, floats, booleans and timestamps;
// strings case-sensitively; no string↔number coercion; arrays element by
// element; dicts by content regardless of key order. NULL equals NULL.
// A Comparer on either side decides.
func Equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if c, ok, applies := protocolCompare(a, b); applies {
		return ok && c == 0
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := AsList(b)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *ordereddict.Dict:
		y, ok := b.(*ordereddict.Dict)
		if !ok {
			return false
		}
		return dictEqual(x, y)
	}
	if nx, ok := ToNumberOrBool(a); ok {
		ny, ok := ToNumberOrBool(b)
		if !ok {
			return false
		}
		if !nx.IsFloat && !ny.IsFloat {
			return nx.Int == ny.Int
		}
		return nx.F() == ny.F()
	}
	if _, ok := b.(string); ok {
		return false
	}
	if l, ok := AsList(a); ok {
		return Equal(l, b)
	}
	return reflect.DeepEqual(a, b)
}

func dictEqual(x, y *ordereddict.Dict) bool {
	if x.Len() != y.Len() {
		return false
	}
	for _, item := range x.Items() {
		v, ok := y.Get(item.Key)
		if !ok || !Equal(item.Value, v) {
			return false
		}
	}
	return true
}

// Compare orders two values for `<`, `<=`, `>`, `>=`. ok is false when the
// two cannot be ordered (a string against a number, NULL against anything):
// every ordering comparison is then false.
func Compare(a, b any) (c int, ok bool) { return Operators{}.Compare(a, b) }

// Compare is Compare with o's protocols: a time against a string reads
// the string as a time unless o is vfilter's core. A Comparer on either
// side decides.
func (o Operators) Compare(a, b any) (c int, ok bool) {
	if a == nil || b == nil {
		return 0, false
	}
	if c, ok, applies := protocolCompare(a, b); applies {
		return c, ok
	}
	if !o.VfilterCore {
		if c, ok, applies := compareTimeText(a, b); applies {
			return c, ok
		}
	}
	if x, isStr := a.(string); isStr {
		y, isStr := b.(string)
		if !isStr {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	if _, isStr := b.(string); isStr {
		return 0, false
	}
	nx, ok := ToNumberOrBool(a)
	if !ok {
		return 0, false
	}
	ny, ok := ToNumberOrBool(b)
	if !ok {
		return 0, false
	}
	if !nx.IsFloat && !ny.IsFloat {
		return cmpInt(nx.Int, ny.Int), true
	}
	fx, fy := nx.F(), ny.F()
	switch {
	case fx < fy:
		return -1, true
	case fx > fy:
		return 1, true
	}
	return 0, true
}

// compareTimeText orders a time against a string, on either side, as two
// times (`"2024-08-12T02:15:25Z" < timestamp(…)`, as Velociraptor's time
// protocols do): applies is true when one side is a time and the other a
// string. A string that is no time cannot be ordered against a time.
func compareTimeText(a, b any) (c int, ok, applies bool) {
	x, xTime := asTime(a)
	y, yTime := asTime(b)
	var text string
	switch {
	case xTime && !yTime:
		text, applies = b.(string)
	case yTime && !xTime:
		text, applies = a.(string)
	}
	if !applies {
		return 0, false, false
	}
	t, err := ParseTime(text)
	if err != nil {
		return 0, false, true
	}
	if xTime {
		return x.Compare(t), true, true
	}
	return t.Compare(y), true, true
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case *time.Time:
		if t != nil {
			return *t, true
		}
	}
	return time.Time{}, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SortCompare is the total order ORDER BY uses: NULL first, then booleans,
// numbers (timestamps among them), strings, and everything else by its
// JSON text. Within a kind it agrees with Compare.
func SortCompare(a, b any) int {
	ra, rb := sortRank(a), sortRank(b)
	if ra != rb {
		return cmpInt(int64(ra), int64(rb))
	}
	switch ra {
	case 0:
		return 0
	case 1, 2, 3:
		c, _ := Compare(a, b)
		return c
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return strings.Compare(string(ja), string(jb))
}

func sortRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case string:
		return 3
	case time.Time:
		return 2
	}
	if _, ok := ToNumber(v); ok {
		return 2
	}
	return 4
}
