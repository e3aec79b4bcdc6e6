package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// vqlqBin is the real binary, built once for all tests.
var vqlqBin string

func TestMain(m *testing.M) {
	// The test binary doubles as the HTTP consumer of the kill test.
	if os.Getenv(httpConsumerEnv) != "" {
		httpConsumerMain()
		return
	}
	dir, err := os.MkdirTemp("", "vqlq-bin")
	if err != nil {
		panic(err)
	}
	vqlqBin = filepath.Join(dir, "vqlq")
	// -buildvcs=auto stamps the commit (for --version) when the tree is
	// a git checkout, whatever GOFLAGS says.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", vqlqBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	// VQLQ_TEST_BIN runs the tests against another build (an older commit,
	// to measure what a change improved).
	if b := os.Getenv("VQLQ_TEST_BIN"); b != "" {
		vqlqBin = b
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func runVQLQ(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(vqlqBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func TestQueryFormats(t *testing.T) {
	const q = "SELECT _value * 2 AS x FROM range(end=3)"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"query", q}, "[{\"x\":0},\n{\"x\":2},\n{\"x\":4}]\n"},
		{[]string{"query", "--format", "json", q}, "[{\"x\":0},\n{\"x\":2},\n{\"x\":4}]\n"},
		{[]string{"query", "--format", "jsonl", q}, "{\"x\":0}\n{\"x\":2}\n{\"x\":4}\n"},
		{[]string{"query", "--format", "csv", q}, "x\n0\n2\n4\n"},
		{[]string{"query", "--format", "table", q}, "+---+\n| x |\n+---+\n| 0 |\n| 2 |\n| 4 |\n+---+\n3 rows\n"},
		{[]string{"query", "SELECT * FROM range(end=0)"}, "[]\n"},
	}
	for _, tt := range tests {
		r := runVQLQ(t, "", tt.args...)
		if r.code != 0 || r.stdout != tt.want {
			t.Errorf("%v: code %d stdout %q stderr %q, want %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
}

func TestQueryFromStdin(t *testing.T) {
	r := runVQLQ(t, "SELECT 1 AS a FROM scope()", "query", "-")
	if r.code != 0 || r.stdout != "[{\"a\":1}]\n" {
		t.Errorf("got %+v", r)
	}
}

func TestRunScript(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script.vql")
	text := "-- a comment\nLET X = 2\nSELECT X AS a FROM scope()\n/* two */ SELECT X * 2 AS b FROM scope();\n"
	if err := os.WriteFile(script, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runVQLQ(t, "", "run", "--format", "jsonl", script)
	if r.code != 0 || r.stdout != "{\"a\":2}\n{\"b\":4}\n" {
		t.Errorf("got %+v", r)
	}
	// Piped into the bare command, the same script runs the same way.
	r = runVQLQ(t, text, "--format", "jsonl")
	if r.code != 0 || r.stdout != "{\"a\":2}\n{\"b\":4}\n" {
		t.Errorf("piped: got %+v", r)
	}
}

func TestParseErrorRunsNothing(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script.vql")
	text := "SELECT log(message='ran') FROM scope()\nLET X = 1\nSELECT * FROM x WHERE a FORM\n"
	os.WriteFile(script, []byte(text), 0o644)
	r := runVQLQ(t, "", "run", script)
	want := script + ":3:25: unexpected token \"FORM\"\nSELECT * FROM x WHERE a FORM\n                        ^\n"
	if r.code != 2 || r.stdout != "" || r.stderr != want {
		t.Errorf("code %d stdout %q stderr\n%s\nwant\n%s", r.code, r.stdout, r.stderr, want)
	}
	r = runVQLQ(t, "", "query", "SELECT * FORM x")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "1:10: unexpected token \"FORM\" (did you mean FROM?)\nSELECT * FORM x\n         ^") {
		t.Errorf("got %+v", r)
	}
}

func TestRuntimeErrorExitStatus(t *testing.T) {
	r := runVQLQ(t, "", "query", "--format", "jsonl", "SELECT _value AS v, upcase(string=[1]) AS n FROM range(end=2)")
	if r.code != 1 || r.stdout != "{\"v\":0,\"n\":null}\n{\"v\":1,\"n\":null}\n" || !strings.Contains(r.stderr, "ERROR:upcase: Field string should be a string") {
		t.Errorf("got %+v", r)
	}
}

// TestCheckRunsNothing: unknown plugins, functions and argument names are
// all reported, with their positions, before anything runs (exit 2). (An
// artifact of the definitions folder with such a mistake is left out
// with a warning: TestDefinitionsFolderSkipsBrokenArtifacts.)
func TestCheckRunsNothing(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script.vql")
	os.WriteFile(script, []byte("SELECT log(message='ran') FROM scope()\nLET X = SELECT * FROM rnage(end=1)\nSELECT nosuch(x=1) FROM X\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"script", []string{"run", script},
			script + ":2:23: unknown plugin rnage (did you mean range?)\nLET X = SELECT * FROM rnage(end=1)\n                      ^\n" +
				script + ":3:8: unknown function nosuch\nSELECT nosuch(x=1) FROM X\n       ^\n"},
		{"query", []string{"query", "SELECT * FROM range(end=1, stpe=2)"},
			"1:28: unknown argument stpe of plugin range (did you mean step?); its arguments are start, end, step\nSELECT * FROM range(end=1, stpe=2)\n                           ^\n"},
	}
	for _, tt := range tests {
		r := runVQLQ(t, "", append(tt.args, "--data-dir", filepath.Join(t.TempDir(), "data"))...)
		if r.code != 2 || r.stdout != "" || r.stderr != tt.stderr {
			t.Errorf("%s: code %d stdout %q stderr\n%s\nwant\n%s", tt.name, r.code, r.stdout, r.stderr, tt.stderr)
		}
	}
}

func TestHelpComesFromDeclarations(t *testing.T) {
	r := runVQLQ(t, "", "help", "range")
	if r.code != 0 || !strings.Contains(r.stdout, "plugin range(start, end, step)") || !strings.Contains(r.stdout, "end        (int, required)") {
		t.Errorf("got %+v", r)
	}
	// The list names plugins, functions and accessors alike.
	list := runVQLQ(t, "", "help").stdout
	for _, name := range []string{"\n  watch_monitoring ", "\n  upcase ", "\n  pipe ", "\n  help "} {
		if !strings.Contains(list, name) {
			t.Errorf("vqlq help does not list %q:\n%s", name, list)
		}
	}
}

// A terminal gets a table by default.
func TestTableOnTerminal(t *testing.T) {
	cmd := exec.Command(vqlqBin, "query", "SELECT 1 AS a FROM scope()")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer f.Close()
	out, _ := io.ReadAll(f)
	cmd.Wait()
	if !strings.Contains(string(out), "| a |") {
		t.Errorf("got %q", out)
	}
}

// Ctrl-C stops a running query: the process exits with 130 soon after
// the signal, having printed the rows so far.
func TestInterruptStopsQuery(t *testing.T) {
	cmd := exec.Command(vqlqBin, "query", "--format", "jsonl", "SELECT Unix FROM clock(period=0.05)")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := stdout.Read(buf); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, stdout); done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("vqlq did not stop after SIGINT")
	}
}

func sleepBriefly() { time.Sleep(25 * time.Millisecond) }
