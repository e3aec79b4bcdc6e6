package artifacts

// Storage is the small key-value store that run-time definitions are kept
// in, so that they survive a restart. The queue store implements it over
// its on-disk database; MemoryStorage serves tests and callers with no
// store. Implementations must be safe for concurrent use.
type Storage interface {
	// Get returns the value stored under key; found is false when there is
	// none.
	Get(key string) (value []byte, found bool, err error)
	// Put stores value under key, replacing any earlier value. The value
	// is durable once Put returns.
	Put(key string, value []byte) error
	// Delete removes key; removing a missing key is not an error.
	Delete(key string) error
	// Scan calls fn for every key starting with prefix, in ascending key
	// order, and stops at the first error fn returns, returning it. fn may
	// not keep value after it returns.
	Scan(prefix string, fn func(key string, value []byte) error) error
}
