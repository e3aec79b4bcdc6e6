package host_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestPslist finds a real child process, and this test's own process, by
// pid.
func TestPslist(t *testing.T) {
	sleep := exec.Command("sleep", "37.5")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	child, me := sleep.Process.Pid, os.Getpid()
	exe, _ := os.Executable()
	for _, c := range []struct{ name, query, want string }{
		{"child by pid", fmt.Sprintf("SELECT Pid, Ppid, Name, CommandLine FROM pslist(pid=%d)", child),
			fmt.Sprintf(`[{"Pid":%d,"Ppid":%d,"Name":"sleep","CommandLine":"sleep 37.5"}]`, child, me)},
		{"child in the whole list", fmt.Sprintf("SELECT Name, CommandLine FROM pslist() WHERE Pid = %d", child),
			`[{"Name":"sleep","CommandLine":"sleep 37.5"}]`},
		{"this process", "SELECT Pid, Exe, MemoryInfo.rss > 0 AS HasRSS, Times.user >= 0 AS HasTimes, CreateTime < now() AS Started FROM pslist(pid=getpid())",
			fmt.Sprintf(`[{"Pid":%d,"Exe":%q,"HasRSS":true,"HasTimes":true,"Started":true}]`, me, exe)},
		{"no such pid", "SELECT * FROM pslist(pid=2147483646)", `[]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, all, c.query)
			if got != c.want {
				t.Errorf("%s\n got %s\nwant %s\nlogs %q", c.query, got, c.want, logs)
			}
		})
	}
	// Every column, in Velociraptor's order.
	sleepExe, _ := exec.LookPath("sleep")
	sleepExe, _ = filepath.EvalSymlinks(sleepExe)
	cwd, _ := os.Getwd()
	u, _ := user.Current()
	got, _ := vqltest.RowsWith(t, all, fmt.Sprintf("SELECT * FROM pslist(pid=%d)", child))
	want := regexp.MustCompile(fmt.Sprintf(`^\[\{"Pid":%d,"Name":"sleep","Ppid":%d,"CommandLine":"sleep 37.5","CreateTime":"[-0-9T:.]+Z","Times":\{"user":[0-9.e-]+,"system":[0-9.e-]+\},"Exe":%q,"Cwd":%q,"Username":%q,"MemoryInfo":\{"rss":[0-9]+,"vms":[0-9]+,"hwm":[0-9]+,"data":[0-9]+,"stack":[0-9]+,"locked":[0-9]+,"swap":[0-9]+\}\}\]$`,
		child, me, sleepExe, cwd, u.Username))
	if !want.MatchString(got) {
		t.Errorf("pslist row\n got %s\nwant %s", got, want)
	}
}
