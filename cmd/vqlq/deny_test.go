package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// netQuery reaches a closed port: Response 0 when it tries, NULL when
// refused.
const netQuery = "SELECT http_client(url='http://127.0.0.1:1/').Response AS r FROM scope()"

// TestDenyFlag: the local command line holds every permission; --deny
// narrows vqlq query and vqlq run, the refusal names the permission, and
// a misspelt name is a usage error with the closest one.
func TestDenyFlag(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	file := filepath.Join(t.TempDir(), "info.vql")
	if err := os.WriteFile(file, []byte("SELECT OS FROM info()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"query without --deny reaches out", []string{"query", netQuery}, 1, `[{"r":0}]`, "ERROR:http_client: GET http://127.0.0.1:1/: dial tcp"},
		{"query --deny NETWORK", []string{"query", "--deny", "NETWORK", netQuery}, 1, `[{"r":null}]`,
			"ERROR:http_client: permission denied: server (owner) lacks NETWORK\n"},
		{"run without --deny", []string{"run", "--format", "jsonl", file}, 0, `{"OS":"` + runtime.GOOS + `"}`, ""},
		{"run --deny EXECVE,MACHINE_STATE", []string{"run", "--format", "jsonl", "--deny", "EXECVE,MACHINE_STATE", file}, 1, "",
			"ERROR:info: permission denied: server (owner) lacks MACHINE_STATE\n"},
		{"a misspelt name", []string{"query", "--deny", "NETWRK", netQuery}, exitUsage, "",
			"invalid value \"NETWRK\" for flag -deny: unknown permission \"NETWRK\" (did you mean NETWORK?)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runVQLQ(t, "", append(c.args[:1:1], append([]string{"--data-dir", data}, c.args[1:]...)...)...)
			if r.code != c.code || strings.TrimSpace(r.stdout) != c.stdout || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("%+v, want %d %q %q", r, c.code, c.stdout, c.stderr)
			}
			if strings.Contains(c.name, "without") && strings.Contains(r.stderr, "permission denied") {
				t.Errorf("refused without --deny: %s", r.stderr)
			}
		})
	}
}

// TestDenyAtThePrompt: the REPL takes --deny as query and run do.
func TestDenyAtThePrompt(t *testing.T) {
	s := startTmux(t, "--data-dir", t.TempDir(), "--deny", "NETWORK")
	s.waitFor("vqlq>")
	s.keys(netQuery, "Enter")
	s.waitFor("ERROR:http_client: permission denied: server (owner) lacks NETWORK")
}

// watchDef runs info() on the server, which needs MACHINE_STATE.
const watchDef = `name: Custom.Watch
type: SERVER_EVENT
required_permissions: [MACHINE_STATE]
sources:
  - query: SELECT OS FROM info()
`

// TestDenyThroughServe: `vqlq serve --deny` narrows what the server runs
// as its owner — the monitoring, and the statements of an attached
// client, which may narrow them further with its own --deny.
func TestDenyThroughServe(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef, "w.yaml": watchDef}, "--deny", "MACHINE_STATE", "--monitor", "Custom.Watch")
	query := func(args ...string) result {
		return runVQLQ(t, "", append([]string{"query", "--data-dir", p.data, "--format", "jsonl"}, args...)...)
	}
	if r := query("SELECT OS FROM info()"); !strings.Contains(r.stderr, "ERROR:info: permission denied: server (owner) lacks MACHINE_STATE") {
		t.Errorf("the server's --deny, attached: %+v", r)
	}
	if r := query("--deny", "NETWORK", netQuery); !strings.Contains(r.stderr, "ERROR:http_client: permission denied: server (owner) lacks NETWORK") {
		t.Errorf("the client's --deny, attached: %+v", r)
	}
	want := "Artifact.Custom.Watch: permission denied: server (monitoring) lacks MACHINE_STATE"
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := query("SELECT message FROM monitoring_logs(artifact='Custom.Watch')")
		if strings.Contains(r.stdout, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitoring's log never said %q: %+v", want, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
