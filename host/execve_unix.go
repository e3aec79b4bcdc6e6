//go:build unix

package host

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the program in a process group of its own, and makes
// cancelling it kill that whole group: what it started goes with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
