package value

import "math"

// Add is `+`: numbers add (int + int stays int, a float makes a float),
// strings concatenate, and arrays concatenate with anything — `(1, 2) + 3`
// is [1, 2, 3], `(1, 2) + NULL` is [1, 2, NULL]. Anything else with NULL,
// or mismatched kinds, is NULL.
func Add(a, b any) any {
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
		if sb, ok := b.(string); ok {
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

// Mul is `*` on numbers.
func Mul(a, b any) any {
	return arith(a, b, func(x, y int64) (int64, bool) {
		if x == 0 || y == 0 {
			return 0, true
		}
		r := x * y
		return r, r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
	}, func(x, y float64) float64 { return x * y })
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
