package functions

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Atoi parses an integer (decimal, or 0x/0o/0b prefixed); numbers pass
// through; anything else is NULL.
var Atoi = fn("atoi", "The string as an integer (decimal or 0x, 0o, 0b prefixed); NULL when it is not one.",
	[]vql.ArgSpec{arg("string", vql.TypeAny, true, "The text (or a number).")},
	func(c call) any {
		switch v := c.args.Value("string").(type) {
		case string:
			t := strings.TrimSpace(v)
			if i, err := strconv.ParseInt(t, 10, 64); err == nil {
				return i
			}
			if i, err := strconv.ParseInt(t, 0, 64); err == nil {
				return i
			}
			return nil
		default:
			if i, ok := value.ToInt64(v); ok {
				return i
			}
			return nil
		}
	})

// ParseFloat parses a floating point number.
var ParseFloat = fn("parse_float", "The string as a float; NULL when it is not a number.",
	[]vql.ArgSpec{arg("string", vql.TypeAny, true, "The text (or a number).")},
	func(c call) any {
		switch v := c.args.Value("string").(type) {
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil
			}
			return f
		default:
			if n, ok := value.ToNumber(v); ok {
				return n.F()
			}
			return nil
		}
	})

// Entropy is the Shannon entropy of a string's bytes, in bits per byte
// (0 for empty or uniform data, 8 for random bytes).
var Entropy = stringFn("entropy", "The Shannon entropy of the string's bytes, in bits per byte (0 to 8).", "The data.",
	func(c call, s string) any {
		if s == "" {
			return float64(0)
		}
		var counts [256]int
		for i := 0; i < len(s); i++ {
			counts[s[i]]++
		}
		h, n := 0.0, float64(len(s))
		for _, k := range counts {
			if k > 0 {
				p := float64(k) / n
				h -= p * math.Log2(p)
			}
		}
		return h
	})

// Rand is a random integer in [0, range).
var Rand = fn("rand", "A random integer from 0 up to (not including) range.",
	[]vql.ArgSpec{arg("range", vql.TypeInt, false, "The bound (default: any non-negative int64).")},
	func(c call) any {
		n := c.args.Int("range", 0)
		if c.args.Failed() {
			return nil
		}
		if n <= 0 {
			return rand.Int64()
		}
		return rand.Int64N(n)
	})

// Humanize writes a byte count with SI units, as Velociraptor does
// ("1.2 kB", "83 MB").
var Humanize = fn("humanize", "A byte count in human units (SI, 1 kB = 1000 B; IEC with iec=TRUE).",
	[]vql.ArgSpec{
		arg("bytes", vql.TypeInt, true, "The number of bytes."),
		arg("iec", vql.TypeBool, false, "Use powers of 1024 (KiB, MiB, …)."),
	}, func(c call) any {
		n, iec := c.args.Int("bytes", 0), c.args.Bool("iec", false)
		if c.args.Failed() {
			return nil
		}
		sign := ""
		if n < 0 {
			sign, n = "-", -n
		}
		if iec {
			return sign + humanize.IBytes(uint64(n))
		}
		return sign + humanize.Bytes(uint64(n))
	})

// rateState is the previous sample a rate() call site saw.
type rateState struct{ x, y float64 }

// Rate is the derivative of x over y between consecutive rows (per group
// with GROUP BY): bytes sampled every second give bytes per second.
var Rate = fn("rate", "(x - previous x) / (y - previous y) between this row and the one before; NULL on the first row.",
	[]vql.ArgSpec{
		arg("x", vql.TypeFloat, true, "The quantity (e.g. a byte counter)."),
		arg("y", vql.TypeFloat, true, "What it changes over (e.g. a time in seconds)."),
	}, func(c call) any {
		x, y := c.args.Float("x", 0), c.args.Float("y", 0)
		if c.args.Failed() {
			return nil
		}
		prev, _ := c.args.AggregateState().(*rateState)
		c.args.SetAggregateState(&rateState{x, y})
		if prev == nil || y == prev.y {
			return nil
		}
		return (x - prev.x) / (y - prev.y)
	})
