package value

import (
	"math"
	"strings"

	"github.com/Velocidex/ordereddict"
)

// MaxBuiltString bounds the string `+` and `*` build (100 MB, vfilter's
// limit): past it the result is NULL rather than memory exhausted by one
// expression.
const MaxBuiltString = 100_000_000

// Add is `+`: numbers add (int + int stays int, a float makes a float),
// strings concatenate, dicts merge (a new dict: a's items set, then b's,
// so a key of both takes b's value and place, as Velociraptor's dict
// protocol does), and arrays
// concatenate with anything — `(1, 2) + 3` is [1, 2, 3], `(1, 2) + NULL`
// is [1, 2, NULL]. Anything else with NULL, or mismatched kinds, is NULL.
// A left operand that is an Adder decides first.
func Add(a, b any) any { return Operators{}.Add(a, b) }

// Add is `+` with o's protocols (see Add).
func (o Operators) Add(a, b any) any {
	if x, ok := a.(Adder); ok {
		if r, ok := x.Add(b); ok {
			return r
		}
	}
	if !o.VfilterCore {
		if da, ok := a.(*ordereddict.Dict); ok {
			if db, ok := b.(*ordereddict.Dict); ok {
				return mergeDicts(da, db)
			}
		}
	}
	if la, ok := AsList(a); ok {
		if lb, ok := AsList(b); ok {
			out := make([]any, 0, len(la)+len(lb))
			return append(append(out, la...), lb...)
		}
		out := make([]any, 0, len(la)+1)
		return append(append(out, la...), b)
	}
	if lb, ok := AsList(b); ok {
		out := make([]any, 0, len(lb)+1)
		return append(append(out, a), lb...)
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok && len(sa)+len(sb) <= MaxBuiltString {
			return sa + sb
		}
		return nil
	}
	return arith(a, b, func(x, y int64) (int64, bool) {
		r := x + y
		return r, (r > x) == (y > 0)
	}, func(x, y float64) float64 { return x + y })
}

// Sub is `-` on numbers.
func Sub(a, b any) any {
	return arith(a, b, func(x, y int64) (int64, bool) {
		r := x - y
		return r, (r < x) == (y > 0)
	}, func(x, y float64) float64 { return x - y })
}

func mergeDicts(a, b *ordereddict.Dict) *ordereddict.Dict {
	out := ordereddict.NewDict()
	for _, d := range []*ordereddict.Dict{a, b} {
		for _, item := range d.Items() {
			out.Set(item.Key, item.Value)
		}
	}
	return out
}

// Mul is `*` on numbers; a string times an integer (either way round)
// repeats it: `'ab' * 3` is "ababab", a count below one gives "".
func Mul(a, b any) any { return Operators{}.Mul(a, b) }

// Mul is `*` with o's protocols (see Mul).
func (o Operators) Mul(a, b any) any {
	if !o.VfilterCore {
		if s, ok := a.(string); ok {
			return repeat(s, b)
		}
		if s, ok := b.(string); ok {
			return repeat(s, a)
		}
	}
	return arith(a, b, func(x, y int64) (int64, bool) {
		if x == 0 || y == 0 {
			return 0, true
		}
		r := x * y
		return r, r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
	}, func(x, y float64) float64 { return x * y })
}

// repeat is `s * n`: NULL when n is not an integer or the result would
// pass MaxBuiltString.
func repeat(s string, n any) any {
	num, ok := ToNumber(n)
	c := num.Int
	switch {
	case !ok || num.IsFloat:
		return nil
	case c <= 0 || s == "":
		return ""
	case c > int64(MaxBuiltString/len(s)):
		return nil
	}
	return strings.Repeat(s, int(c))
}

// Div is `/`: always a float; division by zero is NULL.
func Div(a, b any) any {
	x, ok := ToNumber(a)
	if !ok {
		return nil
	}
	y, ok := ToNumber(b)
	if !ok || y.F() == 0 {
		return nil
	}
	return x.F() / y.F()
}

// Mod is `%`: the integer remainder; with a float operand, the float
// remainder. Modulo zero is NULL.
func Mod(a, b any) any {
	x, ok := ToNumber(a)
	if !ok {
		return nil
	}
	y, ok := ToNumber(b)
	if !ok || y.F() == 0 {
		return nil
	}
	if !x.IsFloat && !y.IsFloat {
		if y.Int == -1 {
			return int64(0)
		}
		return x.Int % y.Int
	}
	return math.Mod(x.F(), y.F())
}

// Neg is unary minus on numbers; NULL otherwise.
func Neg(a any) any {
	x, ok := ToNumber(a)
	if !ok {
		return nil
	}
	if x.IsFloat {
		return -x.Float
	}
	if x.Int == math.MinInt64 {
		return -float64(x.Int)
	}
	return -x.Int
}

// arith applies an integer operation when both sides are integers (falling
// back to floats on overflow) and a float operation otherwise.
func arith(a, b any, ints func(x, y int64) (int64, bool), floats func(x, y float64) float64) any {
	x, ok := ToNumber(a)
	if !ok {
		return nil
	}
	y, ok := ToNumber(b)
	if !ok {
		return nil
	}
	if !x.IsFloat && !y.IsFloat {
		if r, ok := ints(x.Int, y.Int); ok {
			return r
		}
	}
	return floats(x.F(), y.F())
}
