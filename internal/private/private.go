// Package private keeps vqlq's data folder private to the user who runs
// vqlq: the folder holds every stored event and the hashes of the API
// tokens, so nothing in it should be readable by other local users.
//
// Badger, which writes most of the folder, does not let its callers choose
// the mode of its files: its tables (.sst), value logs (.vlog), memtable
// logs (.mem), DISCARD and LOCK files are opened with mode 0666 (0644
// under the usual umask of 022), and it has no option to change that. The
// only way to have them born private, with no moment where another user
// could open them, is the umask. Restrict therefore sets the umask of the
// whole process to 0o077 — every file the process creates afterwards,
// inside the data folder or not, is at most 0600 and every folder at most
// 0700. vqlq calls it when it opens a data folder (queues.OpenBadger, the
// REPL before it writes its history), and does not restore it.
//
// On systems without a umask (Windows) Restrict does nothing.
package private

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Umask is the process umask vqlq runs with once it has opened a data
// folder: no permission for group or others.
const Umask = 0o077

// Restrict sets the process umask to Umask. It is process-wide and stays
// set; see the package comment for why.
func Restrict() { setUmask(Umask) }

// ListenUnix listens on a unix socket at path that is born 0600: the
// kernel gives a new socket file 0777 minus the umask, so the umask is
// 0o177 while it is created (no window in which another user could
// connect before a chmod), then back to Umask. The chmod that follows is
// belt and braces. Other goroutines creating files in that moment get
// 0600 files, as they would anyway; a folder created then would lack its
// x bit, and vqlq creates no folders while it starts serving.
func ListenUnix(path string) (net.Listener, error) {
	l, err := listenUnix(path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil && hasUmask {
		l.Close()
		return nil, err
	}
	return l, nil
}

// listenUnix is ListenUnix without the chmod.
func listenUnix(path string) (net.Listener, error) {
	setUmask(0o177)
	defer setUmask(Umask)
	return net.Listen("unix", path)
}

var (
	checkedMu sync.Mutex
	checked   = map[string]bool{}
)

// Prepare readies dir as a data folder: it restricts the umask, warns on
// warn (one line, once per folder per process) if the folder already
// exists and is open to group or others, or holds files that are, and
// creates it (and any missing parents) with mode 0700. It never changes
// the mode of an existing folder or file: the warning says what to run.
func Prepare(dir string, warn io.Writer) error {
	Restrict()
	checkedMu.Lock()
	first := !checked[dir]
	checked[dir] = true
	checkedMu.Unlock()
	if first && warn != nil {
		if msg := Check(dir); msg != "" {
			fmt.Fprintln(warn, msg)
		}
	}
	return os.MkdirAll(dir, 0o700)
}

// Check returns the warning for an existing data folder open to other
// users ("" when it is private, or does not exist): the folder's own mode
// first, else the first file or folder directly inside it with group or
// other permissions.
func Check(dir string) string {
	if !hasUmask {
		return "" // no Unix permissions to judge
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return ""
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("vqlq: warning: data folder %s is mode %04o, open to other local users (it holds the events and the API token hashes); run: chmod 700 %s", dir, perm, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile (badger rotates files)
		}
		if err != nil || info.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			return fmt.Sprintf("vqlq: warning: data folder %s holds %s of mode %04o, open to other local users (the folder itself is private); run: chmod -R go-rwx %s",
				dir, filepath.Join(dir, e.Name()), perm, dir)
		}
	}
	return ""
}
