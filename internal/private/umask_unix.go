//go:build unix

package private

import "syscall"

// hasUmask says whether the system has a umask and Unix permissions.
const hasUmask = true

func setUmask(m int) { syscall.Umask(m) }
