package accessors

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql"
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
		{"scope without a scope", "scope", "X", 10, "", errNoScope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(context.Background(), nil, "test", tc.accessor, tc.filename, tc.limit)
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Errorf("ReadAll(%q, %q) = %q, %v; want %q, %v", tc.accessor, tc.filename, got, err, tc.want, tc.err)
			}
		})
	}
	var names []string
	for _, a := range All() {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "data,pipe,scope" {
		t.Errorf("All() = %v, want data, pipe and scope", names)
	}
}

// TestAccessorPermissions: an accessor that declares permissions is
// refused, naming the call and the permission, to a session without them
// (the refusal is reported as a call's is), and read for one that holds
// them. The accessor here stands for one that opens host files.
func TestAccessorPermissions(t *testing.T) {
	registry["hostfile"] = Accessor{Name: "hostfile", Permissions: []vql.Permission{vql.PermFilesystemRead},
		Read: func(_ context.Context, _ *vql.Scope, filename string, _ int) ([]byte, error) {
			return []byte("read " + filename), nil
		}}
	defer delete(registry, "hostfile")
	for _, c := range []struct {
		name    string
		granted []vql.Permission
		want    string
		err     error
		logs    string
	}{
		{"without FILESYSTEM_READ", nil, "", ErrDenied, "ERROR:read_file(accessor=hostfile): permission denied: ops lacks FILESYSTEM_READ"},
		{"with FILESYSTEM_READ", []vql.Permission{vql.PermFilesystemRead}, "read /etc/hosts", nil, ""},
	} {
		var logs, denied []string
		sess := vql.NewEngine().NewSession(vql.SessionOptions{
			Identity: vql.Identity{Principal: "ops", Granted: c.granted},
			OnLog:    func(m vql.Message) { logs = append(logs, m.String()) },
			OnDenied: func(d vql.Denial) { denied = append(denied, string(d.Permission)) }})
		got, err := ReadAll(context.Background(), sess.Scope(), "read_file", "hostfile", "/etc/hosts", 100)
		if string(got) != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, got, err, c.want, c.err)
		}
		if strings.Join(logs, "\n") != c.logs || (c.err != nil) != (len(denied) == 1) {
			t.Errorf("%s: logs %q, denied %v; want %q", c.name, logs, denied, c.logs)
		}
	}
}
