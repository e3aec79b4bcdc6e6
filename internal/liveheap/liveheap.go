// Package liveheap measures the heap a program keeps, for tests that check
// that something does not grow (queries run, events sent).
package liveheap

import "runtime"

// Bytes is the heap in use after a full collection: what is still
// reachable, not garbage waiting for the collector.
func Bytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Around runs f and returns the live heap before and after it.
func Around(f func()) (before, after uint64) {
	before = Bytes()
	f()
	return before, Bytes()
}
