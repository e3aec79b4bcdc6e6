package accessors

import (
	"context"
	"errors"
	"slices"
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
		{"no accessor is the host's, which needs a session", "", "/etc/passwd", 10, "", errNoScope},
		{"file needs a session", "file", "/etc/passwd", 10, "", errNoScope},
		{"an unknown accessor", "ntfs", `C:\x`, 10, "", ErrUnknownAccessor},
		{"scope without a scope", "scope", "X", 10, "", errNoScope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(context.Background(), nil, tc.accessor, tc.filename, tc.limit)
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Errorf("ReadAll(%q, %q) = %q, %v; want %q, %v", tc.accessor, tc.filename, got, err, tc.want, tc.err)
			}
		})
	}
	var names []string
	for _, a := range All() {
		names = append(names, a.Name)
	}
	// Other packages register more (flows: fs) when the test links them.
	for _, want := range []string{"auto", "data", "file", "gzip", "pipe", "scope", "zip"} {
		if !slices.Contains(names, want) {
			t.Errorf("All() = %v, lacks %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("All() = %v, not sorted by name", names)
	}
}
