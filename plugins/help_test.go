package plugins_test

import (
	"context"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

func TestHelp(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"a plugin with its arguments", `SELECT * FROM help() WHERE name = 'range' AND type = 'plugin'`,
			`[{"name":"range","type":"plugin","description":"Rows {_value: i} for i from start up to (not including) end.","args":[` +
				`{"name":"start","type":"int","required":false,"description":"First value (default 0)."},` +
				`{"name":"end","type":"int","required":true,"description":"Stop before this value."},` +
				`{"name":"step","type":"int","required":false,"description":"Increment (default 1; may be negative)."}],"permissions":[]}]`, ""},
		{"a function", `SELECT * FROM help() WHERE name = 'upcase'`,
			`[{"name":"upcase","type":"function","description":"The string in upper case.","args":[{"name":"string","type":"string","required":true,"description":"The string."}],"permissions":[]}]`, ""},
		{"what a call needs", `SELECT name, type, permissions FROM help() WHERE name = 'http_client' OR name = 'info'`,
			`[{"name":"http_client","type":"plugin","permissions":["NETWORK"]},{"name":"info","type":"plugin","permissions":["MACHINE_STATE"]},{"name":"http_client","type":"function","permissions":["NETWORK"]}]`, ""},
		{"an accessor", `SELECT * FROM help() WHERE name = 'data' AND type = 'accessor'`,
			`[{"name":"data","type":"accessor","description":"The filename is the data itself (a string); nothing is opened.","args":[],"permissions":[]}]`, ""},
		{"help lists itself", `SELECT name, type, args FROM help() WHERE name = 'help'`, `[{"name":"help","type":"plugin","args":[]}]`, ""},
		{"plugins, then functions, then accessors", `SELECT type FROM help() GROUP BY type`, `[{"type":"plugin"},{"type":"function"},{"type":"accessor"}]`, ""},
	})
}

// TestHelpListsTheEngine: help() has one row per declaration the engine
// and the accessors have, and a plugin a host adds appears in it.
func TestHelpListsTheEngine(t *testing.T) {
	e := vqlq.NewEngine()
	e.AddPlugin(vql.PluginFunc{Meta: vql.Info{Name: "host_thing", Doc: "Added by the host."}})
	rows, err := e.NewSession(vql.SessionOptions{}).RunText(context.Background(), "SELECT name, type FROM help()")
	if err != nil {
		t.Fatal(err)
	}
	n, host := 0, false
	for r := range rows {
		n++
		name, _ := r.Row.Get("name")
		host = host || name == "host_thing"
	}
	if want := len(e.Plugins()) + len(e.Functions()) + len(accessors.All()); n != want || !host {
		t.Errorf("help() has %d rows (host plugin listed: %v), the engine declares %d", n, host, want)
	}
}
