//go:build unix

package private

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// usualUmask puts the test process's umask at the common 0o022 (so the
// checks below mean something) and back afterwards.
func usualUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestPrepareCreatesAPrivateFolderAndRestrictsTheUmask(t *testing.T) {
	usualUmask(t)
	dir := filepath.Join(t.TempDir(), "a", "data")
	var warn bytes.Buffer
	if err := Prepare(dir, &warn); err != nil {
		t.Fatal(err)
	}
	if warn.Len() != 0 {
		t.Errorf("warned about a new folder: %q", warn.String())
	}
	if p := perm(t, dir); p != 0o700 {
		t.Errorf("data folder is %04o, want 0700", p)
	}
	if p := perm(t, filepath.Dir(dir)); p != 0o700 {
		t.Errorf("created parent is %04o, want 0700", p)
	}
	// A file created the way badger creates its tables.
	f, err := os.OpenFile(filepath.Join(dir, "000001.sst"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if p := perm(t, filepath.Join(dir, "000001.sst")); p != 0o600 {
		t.Errorf("a 0666 file is created %04o, want 0600", p)
	}
}

func TestPrepareWarnsOnceAndChangesNothing(t *testing.T) {
	usualUmask(t)
	dir := filepath.Join(t.TempDir(), "open")
	os.Mkdir(dir, 0o755)
	os.Chmod(dir, 0o755)
	var warn bytes.Buffer
	Prepare(dir, &warn)
	Prepare(dir, &warn)
	want := "vqlq: warning: data folder " + dir + " is mode 0755, open to other local users (it holds the events and the API token hashes); run: chmod 700 " + dir + "\n"
	if warn.String() != want {
		t.Errorf("warned %q, want %q", warn.String(), want)
	}
	if p := perm(t, dir); p != 0o755 {
		t.Errorf("the folder's mode was changed to %04o", p)
	}

	// A private folder holding a file others can read.
	dir = filepath.Join(t.TempDir(), "files")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "000001.vlog"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "000002.vlog"), []byte("x"), 0o600)
	os.Chmod(filepath.Join(dir, "000002.vlog"), 0o644)
	got := Check(dir)
	want = "vqlq: warning: data folder " + dir + " holds " + filepath.Join(dir, "000002.vlog") + " of mode 0644, open to other local users (the folder itself is private); run: chmod -R go-rwx " + dir
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if p := perm(t, filepath.Join(dir, "000002.vlog")); p != 0o644 {
		t.Errorf("the file's mode was changed to %04o", p)
	}
	if Check(filepath.Join(t.TempDir(), "missing")) != "" {
		t.Error("warned about a folder that does not exist")
	}
}

func TestListenUnixIsBorn0600(t *testing.T) {
	usualUmask(t)
	Restrict()
	dir, err := os.MkdirTemp("", "sock") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Born 0600, before any chmod.
	born, err := listenUnix(filepath.Join(dir, "born.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer born.Close()
	if fi, err := os.Lstat(filepath.Join(dir, "born.sock")); err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket is born %v (%v), want a 0600 socket", fi.Mode(), err)
	}
	path := filepath.Join(dir, "s.sock")
	l, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket is %v, want a 0600 socket", fi.Mode())
	}
	// The umask is back to Umask: a new folder gets its x bit.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o777)
	if p := perm(t, sub); p != 0o700 {
		t.Errorf("a folder made after ListenUnix is %04o, want 0700", p)
	}
	if !strings.HasSuffix(l.Addr().String(), "s.sock") {
		t.Errorf("listening on %s", l.Addr())
	}
}
