package runner

import (
	"fmt"
	"strconv"

	"github.com/vqlq/vqlq/internal/bytesize"

	"github.com/vqlq/vqlq/vql"
)

// QueryMemory is the --max-query-memory flag: the memory budget of each
// statement, written 512MiB, 2GB or in bytes; 0 turns the budget off.
type QueryMemory struct {
	bytes int64
	set   bool
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
	n, err := bytesize.Parse(s)
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
