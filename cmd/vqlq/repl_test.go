package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real binary in a real terminal.
type tmuxSession struct {
	t    *testing.T
	name string
}

func startTmux(t *testing.T, args ...string) *tmuxSession {
	return startTmuxEnv(t, nil, args...)
}

// startTmuxEnv starts the binary in tmux with env (NAME=value) set for it
// alone: a tmux server started earlier keeps its own environment.
func startTmuxEnv(t *testing.T, env []string, args ...string) *tmuxSession {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("VQLQ_REQUIRE_TMUX") == "1" {
			t.Fatal("tmux is not installed, and VQLQ_REQUIRE_TMUX=1 (as in CI) makes the terminal tests mandatory")
		}
		t.Skip("tmux is not installed: install Debian's tmux package (apt-get install -y tmux; .ci/run does), or set VQLQ_REQUIRE_TMUX=1 to make this a failure")
	}
	// The pid keeps two test runs on one machine (and one tmux server) apart.
	name := fmt.Sprintf("vqlq-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	cmdline := vqlqBin + " " + strings.Join(args, " ")
	tmuxArgs := []string{"new-session", "-d", "-s", name, "-x", "160", "-y", "50"}
	for _, e := range env {
		tmuxArgs = append(tmuxArgs, "-e", e)
	}
	s := &tmuxSession{t: t, name: name}
	cmd := s.tmux(append(tmuxArgs, cmdline)...)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	// Its own tmux server: when another test's last session closes, the
	// shared server exits, and a session started at that moment fails
	// ("server exited unexpectedly").
	t.Cleanup(func() { s.tmux("kill-server").Run() })
	return s
}

// tmux runs a tmux command on the session's own server (-L).
func (s *tmuxSession) tmux(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-L", s.name}, args...)...)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v %s", err, out)
	}
}

func (s *tmuxSession) screen() string {
	out, _ := s.tmux("capture-pane", "-p", "-t", s.name, "-S", "-200").Output()
	return string(out)
}

// waitForMainScreen waits until the pane has left the alternate screen a
// full-screen program (the pager) draws on (a hang guard, not a timing
// assertion).
func (s *tmuxSession) waitForMainScreen() {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := s.tmux("display-message", "-p", "-t", s.name, "#{alternate_on}").Output()
		if strings.TrimSpace(string(out)) == "0" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the pane stayed on the alternate screen:\n%s", s.screen())
}

// waitFor polls the screen until it contains want (a hang guard, not a
// timing assertion).
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if sc := s.screen(); strings.Contains(sc, want) {
			return sc
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q:\n%s", want, s.screen())
	return ""
}

func TestREPLInATerminal(t *testing.T) {
	data := t.TempDir()
	defs := t.TempDir()
	os.WriteFile(filepath.Join(defs, "receive.yaml"), []byte("name: Server.Events.Receive\ntype: SERVER_EVENT\n"), 0o644)
	s := startTmux(t, "--data-dir", data, "--definitions", defs)
	s.waitFor("vqlq>")

	s.keys("LET Kept = 42", "Enter")
	// A multi-line statement with tab completion of an argument name.
	s.keys("SELECT _value AS v,", "Enter")
	s.waitFor("...>")
	s.keys("_value * 10 AS w FROM range(e", "Tab")
	s.waitFor("range(end=")
	s.keys("3)", "Enter")
	s.waitFor("...>")
	s.keys("Enter") // typed over several lines, it runs at an empty line
	s.waitFor("| 2 | 20 |")

	// The case: the statement does not run when its second line
	// completes it, but when the WHERE typed after it is finished too.
	for _, line := range []string{"SELECT _value AS x", "FROM range(end=5)", "WHERE", "x > 2"} {
		s.keys(line, "Enter")
	}
	s.keys("Enter")
	sc := s.waitFor("2 rows")
	if typed := sc[strings.LastIndex(sc, "SELECT _value AS x"):]; strings.Count(typed, " rows") != 1 || strings.Contains(typed, "| 0 |") || strings.Contains(typed, "ERROR") {
		t.Errorf("the statement ran half-way:\n%s", typed)
	}

	// An endless watch: the event sent by the chain's second query is
	// printed when it arrives, while the watch goes on; Ctrl-C ends it.
	s.keys("SELECT * FROM chain(async=TRUE, a={SELECT msg FROM watch_monitoring(artifact='Server.Events.Re", "Tab")
	s.waitFor("artifact='Server.Events.Receive")
	s.keys("')}, b={SELECT * FROM scope() WHERE sleep(time=0.5) AND send_event(artifact='Server.Events.Receive', row=dict(msg='hello from b')) AND FALSE})", "Enter")
	s.waitFor("| hello from b |")
	s.keys("C-c")
	s.waitFor("query cancelled")

	// The session is intact.
	s.keys("SELECT Kept AS k FROM scope()", "Enter")
	s.waitFor("| 42 |")
	s.keys("C-d")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.tmux("has-session", "-t", s.name).Run() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	history, err := os.ReadFile(filepath.Join(data, "history"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(history), "SELECT _value AS v, _value * 10 AS w FROM range(end=3)\n") || !strings.Contains(string(history), "SELECT _value AS x FROM range(end=5) WHERE x > 2\n") {
		t.Errorf("history lacks the multi-line statement as one entry:\n%s", history)
	}
}

// The same, with the REPL attached to a running server and the event sent
// by another process: one terminal watches, another sends.
func TestREPLAttachedWatchesWhileAnotherProcessSends(t *testing.T) {
	p := startServe(t, map[string]string{"receive.yaml": receiveDef})
	s := startTmux(t, "--data-dir", p.data)
	s.waitFor("vqlq>")
	s.keys("LET Kept = 7", "Enter")
	s.keys("SELECT msg FROM watch_monitoring(artifact='Server.Events.Re", "Tab")
	s.waitFor("artifact='Server.Events.Receive")
	s.keys("')", "Enter")
	// Once the server lists the REPL's watcher, send from a second process.
	waitFolderWatchers(t, p.data, 1)
	if r := runVQLQ(t, "", "query", "--data-dir", p.data, "SELECT send_event(artifact='Server.Events.Receive', row=dict(msg='sent by process 2')) FROM scope()"); r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	s.waitFor("| sent by process 2 |")
	s.keys("C-c")
	s.waitFor("query cancelled")
	s.keys("SELECT Kept AS k FROM scope()", "Enter")
	s.waitFor("| 7 |")
}

// TestREPLPagesLongResults: in a terminal, a result longer than the
// screen opens in less -S (the default pager); q returns to the prompt,
// and the session goes on.
func TestREPLPagesLongResults(t *testing.T) {
	if _, err := exec.LookPath("less"); err != nil {
		if os.Getenv("VQLQ_REQUIRE_TMUX") == "1" {
			t.Fatal("less is not installed (Debian package less), and VQLQ_REQUIRE_TMUX=1 makes the terminal tests mandatory")
		}
		t.Skip("less is not installed (Debian package less; .ci/run installs it)")
	}
	s := startTmuxEnv(t, []string{"PAGER="}, "--data-dir", t.TempDir())
	s.waitFor("vqlq>")
	s.keys("SELECT _value AS n FROM range(end=200)", "Enter")
	s.waitFor("| 40 |")
	if sc := s.screen(); strings.Contains(sc, "200 rows") {
		t.Fatalf("the whole result was printed, not paged:\n%s", sc)
	}
	s.keys("G") // less: to the end
	s.waitFor("200 rows")
	s.keys("q")
	s.waitForMainScreen() // less has exited: keys go to the prompt again
	s.keys("SELECT 'back' AS at FROM scope()", "Enter")
	s.waitFor("| back |")
	// Short results do not page.
	s.keys("SELECT 'short' AS r FROM scope()", "Enter")
	sc := s.waitFor("| short |")
	if !strings.Contains(sc[strings.LastIndex(sc, "short"):], "vqlq>") {
		t.Errorf("no prompt after a short result:\n%s", sc)
	}
}

// TestREPLSurvivesItsServer: an attached REPL is told when its server
// stops (a running watch does not end as if finished), attaches again when
// the server is back, runs on the folder itself while there is none, and
// keeps its LETs throughout: the client replays them into each new
// session.
func TestREPLSurvivesItsServer(t *testing.T) {
	p := startServe(t, map[string]string{"receive.yaml": receiveDef})
	s := startTmux(t, "--data-dir", p.data)
	s.waitFor("vqlq>")
	s.keys("LET Kept = 7", "Enter")
	s.keys("LET Twice(x) = x * 2", "Enter")
	s.keys("SELECT msg FROM watch_monitoring(artifact='Server.Events.Receive')", "Enter")
	waitFolderWatchers(t, p.data, 1)
	p.stop(t)
	s.waitFor("ERROR:the vqlq server went away (shutting down); the statement ended with it")

	// The server is back: the next statement attaches to it again, with
	// the session's definitions.
	q := relaunch(t, p)
	s.keys("SELECT Twice(x=Kept) AS k FROM scope()", "Enter")
	s.waitFor("| 14 |")
	if sc := s.screen(); !strings.Contains(sc, "attached again to the vqlq server that owns "+p.data+"; replaying the session's 2 LETs") || strings.Contains(sc, "dial unix") {
		t.Fatalf("reattaching:\n%s", sc)
	}

	// No server: the next statement runs on the folder itself.
	q.stop(t)
	s.keys("SELECT Kept + 1 AS k FROM scope()", "Enter")
	s.waitFor("| 8 |")
	if sc := s.screen(); !strings.Contains(sc, "no vqlq server owns "+p.data+" any more: running here, on the folder itself; replaying the session's 2 LETs") || strings.Contains(sc, "dial unix") {
		t.Fatalf("going local:\n%s", sc)
	}
}

// waitFolderWatchers waits until the folder's server lists n watchers of
// Server.Events.Receive (a hang guard, not a timing assertion).
func waitFolderWatchers(t *testing.T, data string, n int) {
	t.Helper()
	want := fmt.Sprintf("{\"watchers\":%d}\n", n)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := runVQLQ(t, "", "query", "--data-dir", data, "--format", "jsonl", "SELECT watchers FROM queues() WHERE name = 'Server.Events.Receive'")
		if r.stdout == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server never listed %d watchers", n)
}
