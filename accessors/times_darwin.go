package accessors

import (
	"io/fs"
	"syscall"
	"time"
)

// fileTimes are a file's access, change and birth times.
func fileTimes(st fs.FileInfo) (atime, ctime, btime time.Time) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	return time.Unix(s.Atimespec.Sec, s.Atimespec.Nsec), time.Unix(s.Ctimespec.Sec, s.Ctimespec.Nsec),
		time.Unix(s.Birthtimespec.Sec, s.Birthtimespec.Nsec)
}
