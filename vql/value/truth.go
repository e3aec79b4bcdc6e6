package value

import (
	"reflect"
	"time"
)

// Lengther is implemented by host values that know their size; an empty one
// is false.
type Lengther interface{ Len() int }

// Truthy applies VQL's truth rules: NULL, FALSE, numbers ≤ 0, the empty
// string, an empty array or dict are false; everything else is true.
func Truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case time.Time:
		return !t.IsZero()
	case Lengther:
		return t.Len() > 0
	}
	if n, ok := ToNumber(v); ok {
		return n.F() > 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}
