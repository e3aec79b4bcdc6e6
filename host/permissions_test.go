package host_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestPermissions checks that a session without the permission
// Velociraptor asks for each host call is refused before the call runs.
func TestPermissions(t *testing.T) {
	denied := func(call, perm string) string { return call + ": permission denied: this session lacks " + perm }
	vqltest.Run(t, []vqltest.Case{
		{"info", `SELECT * FROM info()`, `[]`, denied("info", "MACHINE_STATE")},
		{"pslist", `SELECT * FROM pslist()`, `[]`, denied("pslist", "MACHINE_STATE")},
		{"netstat", `SELECT * FROM netstat()`, `[]`, denied("netstat", "MACHINE_STATE")},
		{"connections", `SELECT * FROM connections()`, `[]`, denied("connections", "MACHINE_STATE")},
		{"users", `SELECT * FROM users()`, `[]`, denied("users", "MACHINE_STATE")},
		{"interfaces", `SELECT * FROM interfaces()`, `[]`, denied("interfaces", "MACHINE_STATE")},
		{"environ plugin", `SELECT * FROM environ()`, `[]`, denied("environ", "MACHINE_STATE")},
		{"environ", `SELECT environ(var="HOME") AS H FROM scope()`, `[{"H":null}]`, denied("environ", "MACHINE_STATE")},
		{"host", `SELECT host(name="127.0.0.1") AS H FROM scope()`, `[{"H":null}]`, denied("host", "MACHINE_STATE")},
		{"execve", `SELECT * FROM execve(argv=["true"])`, `[]`, denied("execve", "EXECVE")},
		{"sqlite", `SELECT * FROM sqlite(file="/etc/hostname", query="SELECT 1")`, `[]`, denied("sqlite", "FILESYSTEM_READ")},
		{"plist", `SELECT plist(file="/etc/hostname") AS P FROM scope()`, `[{"P":null}]`, denied("plist", "FILESYSTEM_READ")},
		{"plist plugin", `SELECT * FROM plist(file="/etc/hostname")`, `[]`, denied("plist", "FILESYSTEM_READ")},
		{"watch_syslog", `SELECT * FROM watch_syslog(filename="/etc/hostname")`, `[]`, denied("watch_syslog", "FILESYSTEM_READ")},
		{"getpid needs nothing", `SELECT getpid() > 0 AS P FROM scope()`, `[{"P":true}]`, ""},
	})
}
