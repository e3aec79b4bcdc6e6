package accessors

import (
	"io/fs"
	"syscall"
	"time"
)

// fileTimes are a file's access and change times; Linux's stat has no
// birth time, so Btime stays unknown.
func fileTimes(st fs.FileInfo) (atime, ctime, btime time.Time) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	return time.Unix(s.Atim.Sec, s.Atim.Nsec), time.Unix(s.Ctim.Sec, s.Ctim.Nsec), time.Time{}
}
