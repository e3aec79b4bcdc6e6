package monitoring

import (
	"fmt"
	"sync"
	"time"

	"github.com/vqlq/vqlq/vql"
)

// ring keeps the last messages of an entry; older ones are overwritten.
type ring struct {
	mu   sync.Mutex
	buf  []vql.Message
	next int
	full bool
}

func newRing(size int) *ring { return &ring{buf: make([]vql.Message, size)} }

func (r *ring) add(m vql.Message) {
	r.mu.Lock()
	r.buf[r.next] = m
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// snapshot returns the messages, oldest first.
func (r *ring) snapshot() []vql.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]vql.Message(nil), r.buf[:r.next]...)
	}
	out := make([]vql.Message, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// note records one of the service's own messages in the entry's log.
func (e *entry) note(level, format string, args ...any) {
	e.logs.add(vql.Message{Time: time.Now(), Level: level, Text: fmt.Sprintf(format, args...)})
}
