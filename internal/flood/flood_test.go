package flood

import (
	"io"
	"testing"
)

func TestRepeat(t *testing.T) {
	tests := []struct {
		unit string
		size int64
		want string
	}{
		{"abc", 7, "abcabca"},
		{"abc", 0, ""},
		{"x", 3, "xxx"},
		{"abcd", 2, "ab"},
	}
	for _, tt := range tests {
		b, err := io.ReadAll(Repeat([]byte(tt.unit), tt.size))
		if err != nil || string(b) != tt.want {
			t.Errorf("%q×%d: %q %v, want %q", tt.unit, tt.size, b, err, tt.want)
		}
	}
}
