package artifacts

import (
	"slices"
	"strings"
	"sync"
)

// MemoryStorage is a Storage kept in memory: for tests, and for callers
// that run without a data folder and so persist nothing across restarts.
type MemoryStorage struct {
	mu   sync.RWMutex
	data map[string][]byte
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{data: map[string][]byte{}}
}

// Get returns a copy of the value under key, so that callers cannot change
// what is stored.
func (m *MemoryStorage) Get(key string) ([]byte, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.data[key]
	if !ok {
		return nil, false, nil
	}
	return slices.Clone(v), true, nil
}

// Put stores a copy of value under key.
func (m *MemoryStorage) Put(key string, value []byte) error {
	v := slices.Clone(value)
	if v == nil {
		v = []byte{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[key] = v
	return nil
}

// Delete removes key, if present.
func (m *MemoryStorage) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

// Scan calls fn for each key with prefix in ascending order. It works on a
// snapshot taken under the lock and calls fn without holding it, so fn may
// itself use the storage.
func (m *MemoryStorage) Scan(prefix string, fn func(key string, value []byte) error) error {
	type entry struct {
		key   string
		value []byte
	}
	m.mu.RLock()
	var entries []entry
	for k, v := range m.data {
		if strings.HasPrefix(k, prefix) {
			entries = append(entries, entry{k, slices.Clone(v)})
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range entries {
		if err := fn(e.key, e.value); err != nil {
			return err
		}
	}
	return nil
}
