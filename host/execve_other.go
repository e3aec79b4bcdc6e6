//go:build !unix

package host

import "os/exec"

// ownGroup leaves the program as it is: without process groups, a
// cancelled program alone is killed.
func ownGroup(cmd *exec.Cmd) {}
