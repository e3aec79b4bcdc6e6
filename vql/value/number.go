package value

import (
	"math"
	"reflect"
	"time"
)

// Number is a value seen as a number: an int64 unless Float is set.
type Number struct {
	Int     int64
	Float   float64
	IsFloat bool
}

// F returns the number as a float64.
func (n Number) F() float64 {
	if n.IsFloat {
		return n.Float
	}
	return float64(n.Int)
}

// ToNumber reports whether v is numeric (any Go integer or float width) and
// returns it. Booleans are not numbers here: only equality and ordering
// treat TRUE as 1, through ToNumberOrBool.
func ToNumber(v any) (Number, bool) {
	switch t := v.(type) {
	case int64:
		return Number{Int: t}, true
	case int:
		return Number{Int: int64(t)}, true
	case float64:
		return Number{Float: t, IsFloat: true}, true
	case int32:
		return Number{Int: int64(t)}, true
	case uint64:
		if t > math.MaxInt64 {
			return Number{Float: float64(t), IsFloat: true}, true
		}
		return Number{Int: int64(t)}, true
	case uint32:
		return Number{Int: int64(t)}, true
	case int16:
		return Number{Int: int64(t)}, true
	case uint16:
		return Number{Int: int64(t)}, true
	case int8:
		return Number{Int: int64(t)}, true
	case uint8:
		return Number{Int: int64(t)}, true
	case uint:
		return Number{Int: int64(t)}, true
	case float32:
		return Number{Float: float64(t), IsFloat: true}, true
	case nil, string, bool:
		return Number{}, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Number{Int: rv.Int()}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Number{Int: int64(rv.Uint())}, true
	case reflect.Float32, reflect.Float64:
		return Number{Float: rv.Float(), IsFloat: true}, true
	}
	return Number{}, false
}

// ToNumberOrBool is ToNumber that also reads TRUE as 1 and FALSE as 0, and a
// timestamp as its epoch seconds: the view equality and ordering take.
func ToNumberOrBool(v any) (Number, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return Number{Int: 1}, true
		}
		return Number{Int: 0}, true
	case time.Time:
		return timeNumber(t), true
	case *time.Time:
		if t == nil {
			return Number{}, false
		}
		return timeNumber(*t), true
	}
	return ToNumber(v)
}

func timeNumber(t time.Time) Number {
	if t.Nanosecond() == 0 {
		return Number{Int: t.Unix()}
	}
	return Number{Float: float64(t.UnixNano()) / 1e9, IsFloat: true}
}

// ToInt64 converts a number (or a numeric string's absence) to int64; ok is
// false for anything that is not a number.
func ToInt64(v any) (int64, bool) {
	n, ok := ToNumber(v)
	if !ok {
		return 0, false
	}
	if n.IsFloat {
		return int64(n.Float), true
	}
	return n.Int, true
}
