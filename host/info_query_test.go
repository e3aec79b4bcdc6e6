package host_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// all is a session that holds every permission, as the local command
// line does.
var all = vql.SessionOptions{Identity: vql.Identity{All: true}}

// TestInfoQuery reads the real machine through the query.
func TestInfoQuery(t *testing.T) {
	hostname, _ := os.Hostname()
	got, logs := vqltest.RowsWith(t, all, "SELECT OS, Architecture, Hostname FROM info()")
	want := `[{"OS":"` + runtime.GOOS + `","Architecture":"` + runtime.GOARCH + `","Hostname":"` + hostname + `"}]`
	if got != want {
		t.Errorf("got %s, want %s (logs %q)", got, want, logs)
	}
}
