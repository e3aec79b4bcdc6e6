//go:build !linux && !darwin

package accessors

import (
	"io/fs"
	"time"
)

// fileTimes: only the modification time is known here.
func fileTimes(fs.FileInfo) (atime, ctime, btime time.Time) { return }
