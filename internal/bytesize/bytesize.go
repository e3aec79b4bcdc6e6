// Package bytesize reads and writes the sizes flags take (--min-free,
// --max-query-memory): one reading of units for every flag, so that 512MB
// means the same wherever it is written.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are the suffixes a size may carry, longest first so that "MiB" is
// not read as "B". KB, MB, GB, TB are powers of 1000 and KiB, MiB, GiB,
// TiB powers of 1024, as the SI and IEC define them; a bare K, M, G or T
// is read as the binary unit, as ls -h and most tools show sizes.
var units = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// Parse reads a size: bytes, or a number (fractions allowed) with a unit,
// case-insensitive: 4096, 512MiB, 1.5GB, 10k.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a size: write bytes, or a number with a unit (512MiB, 1.5GB, 10K)", s)
	}
	if f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	return int64(f * mult), nil
}

// Format shows a size in the largest binary unit that keeps it at least
// 1, with one decimal: 272.0 MiB, 512 B.
func Format(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult {
			return strconv.FormatFloat(float64(n)/float64(u.mult), 'f', 1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
