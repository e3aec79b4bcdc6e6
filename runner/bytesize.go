package runner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/vql"
)

// QueryMemory is the --max-query-memory flag: the memory budget of each
// statement, written 512MiB, 2GB or in bytes; 0 turns the budget off.
type QueryMemory struct {
	bytes int64
	set   bool
}

// byteUnits are the suffixes a size may carry, longest first so that
// "MiB" is not read as "B".
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseByteSize reads a size: a whole number of bytes, optionally with a
// unit (KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB — or K, M,
// G, T — in powers of 1024).
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size: write a whole number of bytes, or one with a unit (512MiB, 2GB)", s)
	}
	if n > 0 && mult > (1<<62)/n {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	return n * mult, nil
}

// String shows the flag's value (the default, unset).
func (q *QueryMemory) String() string {
	if q == nil || !q.set {
		return fmt.Sprintf("%dMiB", vql.DefaultMaxQueryMemory>>20)
	}
	return strconv.FormatInt(q.bytes, 10)
}

// Set parses the flag.
func (q *QueryMemory) Set(s string) error {
	n, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	q.bytes, q.set = n, true
	return nil
}

// IsSet reports whether the flag was given.
func (q *QueryMemory) IsSet() bool { return q.set }

// Budget is the value for vql.SessionOptions.MaxQueryMemory: the default
// unless given, none for 0.
func (q *QueryMemory) Budget() int64 {
	switch {
	case !q.set:
		return vql.DefaultMaxQueryMemory
	case q.bytes == 0:
		return -1
	}
	return q.bytes
}
