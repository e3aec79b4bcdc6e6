package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestExecve runs real programs and compares their rows exactly.
func TestExecve(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	done := `"ReturnCode":0,"Complete":true`
	vqltest.RunWith(t, all, []vqltest.Case{
		{"echo", `SELECT * FROM execve(argv=["/bin/echo", "hello", "world"])`,
			`[{"Stdout":"hello world\n","Stderr":"",` + done + `}]`, ""},
		{"stderr and exit code", `SELECT * FROM execve(argv=["sh", "-c", "echo oops >&2; exit 3"])`,
			`[{"Stdout":"","Stderr":"oops\n","ReturnCode":3,"Complete":true}]`, ""},
		{"no shell: argv is passed as it is", `SELECT Stdout FROM execve(argv=["/bin/echo", "$HOME; ls", "*"])`,
			`[{"Stdout":"$HOME; ls *\n"}]`, ""},
		{"chunks cut after their last newline", `SELECT * FROM execve(argv=["seq", "1", "5"], length=4)`,
			`[{"Stdout":"1\n2\n","Stderr":"","ReturnCode":0,"Complete":false},{"Stdout":"3\n4\n","Stderr":"","ReturnCode":0,"Complete":false},{"Stdout":"5\n","Stderr":"",` + done + `}]`, ""},
		{"a chunk without newline is cut at length", `SELECT Stdout, Complete FROM execve(argv=["printf", "abcdefg"], length=3)`,
			`[{"Stdout":"abc","Complete":false},{"Stdout":"def","Complete":false},{"Stdout":"g","Complete":true}]`, ""},
		{"a row per line", `SELECT Stdout, Complete FROM execve(argv=["seq", "1", "3"], sep="\n")`,
			`[{"Stdout":"1","Complete":false},{"Stdout":"2","Complete":false},{"Stdout":"3","Complete":false},{"Stdout":"","Complete":true}]`, ""},
		{"the last piece without a separator", `SELECT Stdout FROM execve(argv=["printf", "a,,b,c"], sep=",")`,
			`[{"Stdout":"a"},{"Stdout":"b"},{"Stdout":"c"},{"Stdout":""}]`, ""},
		{"env replaces the environment", `SELECT Stdout FROM execve(argv=["/usr/bin/env"], env=dict(A="1", B="x y"))`,
			`[{"Stdout":"A=1\nB=x y\n"}]`, ""},
		{"cwd", `SELECT Stdout FROM execve(argv=["pwd"], cwd="` + dir + `")`,
			`[{"Stdout":"` + dir + `\n"}]`, ""},
		{"huge output streams in bounded rows", `SELECT count() AS Rows, sum(item=len(list=Stdout)) AS Bytes FROM execve(argv=["head", "-c", "5000000", "/dev/zero"], length=100000) GROUP BY 1`,
			`[{"Rows":50,"Bytes":5000000}]`, ""},
		{"LIMIT stops an endless program", `SELECT Stdout FROM execve(argv=["yes"], sep="\n") LIMIT 3`,
			`[{"Stdout":"y"},{"Stdout":"y"},{"Stdout":"y"}]`, ""},
		{"timeout", `SELECT * FROM execve(argv=["sleep", "30"], timeout=0.2)`,
			`[{"Stdout":"","Stderr":"","ReturnCode":-1,"Complete":false}]`, "sleep timed out after 200ms and was killed"},
		{"no such program", `SELECT * FROM execve(argv=["/nonexistent/prog"])`,
			`[{"Stdout":"","Stderr":"fork/exec /nonexistent/prog: no such file or directory","ReturnCode":1,"Complete":false}]`, "execve: fork/exec /nonexistent/prog"},
		{"empty argv", `SELECT * FROM execve(argv=[])`, `[]`, "execve: argv is empty"},
		{"argv not a list of strings", `SELECT * FROM execve(argv=[1, 2])`, `[]`, "argv should be a list of strings"},
		{"bad length", `SELECT * FROM execve(argv=["true"], length=-1)`, `[]`, "length must be more than 0, not -1"},
	})
}

// TestExecveTimeoutKillsTheGroup checks that what the program started
// (a backgrounded sleep) is killed with it.
func TestExecveTimeoutKillsTheGroup(t *testing.T) {
	got, logs := vqltest.RowsWith(t, all, `SELECT Stdout FROM execve(argv=["sh", "-c", "sleep 30 & echo $!; wait"], sep="\n", timeout=0.5) WHERE Stdout`)
	pid := childPid(t, got, logs)
	if !strings.Contains(strings.Join(logs, "\n"), "sh timed out after 500ms and was killed") {
		t.Errorf("no timeout logged: %q", logs)
	}
	waitGone(t, pid)
}

// TestExecveCancel cancels a query while its program runs: the program
// and its group are killed and the query ends.
func TestExecveCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows, ended := start(t, ctx, `SELECT Stdout FROM execve(argv=["sh", "-c", "echo $$; sleep 30"], sep="\n")`)
	pid := childPid(t, "["+<-rows+"]", nil)
	cancel()
	waitEnd(t, ended)
	waitGone(t, pid)
}

// childPid reads the pid a program printed as its first row.
func childPid(t *testing.T, rows string, logs []string) int {
	t.Helper()
	s := strings.TrimSuffix(strings.TrimPrefix(rows, `[{"Stdout":"`), `"}]`)
	pid, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("no pid in %s (logs %q)", rows, logs)
	}
	return pid
}

// waitGone waits (a bounded while) until pid is no longer a live process:
// gone, or a zombie waiting for its reaper.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil || isZombie(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d still runs after its query ended", pid)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(after, "Z")
}
