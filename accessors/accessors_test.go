package accessors

import (
	"errors"
	"testing"
)

func TestReadAll(t *testing.T) {
	tests := []struct {
		name, accessor, filename string
		limit                    int
		want                     string
		err                      error
	}{
		{"data gives the text", "data", "hello", 10, "hello", nil},
		{"data over the limit", "data", "hello", 3, "", ErrTooLarge},
		{"no accessor is the host's", "", "/etc/passwd", 10, "", ErrUnknownAccessor},
		{"file is not available", "file", "/etc/passwd", 10, "", ErrUnknownAccessor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(tc.accessor, tc.filename, tc.limit)
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Errorf("ReadAll(%q, %q) = %q, %v; want %q, %v", tc.accessor, tc.filename, got, err, tc.want, tc.err)
			}
		})
	}
	if len(All()) != 1 || All()[0].Name != "data" {
		t.Errorf("All() = %v, want only data", All())
	}
}
