package vql

import (
	"fmt"
	"time"
)

// Log levels. Messages carry their level as a prefix (`ERROR:`), the
// convention VQL users know from Velociraptor.
const (
	LevelDebug = "DEBUG"
	LevelInfo  = "INFO"
	LevelWarn  = "WARN"
	LevelError = "ERROR"
)

// Message is one log line produced while a query runs.
type Message struct {
	Time  time.Time
	Level string
	Text  string
}

// String renders `LEVEL:text`.
func (m Message) String() string { return m.Level + ":" + m.Text }

// Log records a message at the given level. It is safe to call from any
// goroutine.
func (s *Scope) Log(level, format string, args ...any) {
	if s.rt.onLog == nil {
		return
	}
	s.rt.onLog(Message{Time: time.Now(), Level: level, Text: fmt.Sprintf(format, args...)})
}

// Errorf logs at ERROR level.
func (s *Scope) Errorf(format string, args ...any) { s.Log(LevelError, format, args...) }
