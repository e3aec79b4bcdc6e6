package plugins

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/vqlq/vqlq/vql/value"
)

func TestInfoReaders(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	release := write("os-release", "# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\nID_LIKE='ubuntu debian'\nVERSION_ID=\"12\"\nbroken line\n")
	if got, want := readOSRelease(release), map[string]string{"NAME": "Debian GNU/Linux", "ID": "debian", "ID_LIKE": "ubuntu debian", "VERSION_ID": "12"}; !reflect.DeepEqual(got, want) {
		t.Errorf("os-release: %v, want %v", got, want)
	}
	for _, c := range []struct {
		text string
		want int64
	}{
		{"12345.67 2345.01\n", 12345},
		{"", 0},
		{"soon", 0},
	} {
		if got := readUptime(write("uptime", c.text)); got != c.want {
			t.Errorf("uptime %q: %d, want %d", c.text, got, c.want)
		}
	}
	if got := readOSRelease(filepath.Join(dir, "missing")); got != nil {
		t.Errorf("missing os-release: %v", got)
	}
}

func TestInfoRow(t *testing.T) {
	hostname, _ := os.Hostname()
	cwd, _ := os.Getwd()
	row := hostInfo(map[string]string{"ID": "debian", "ID_LIKE": "ubuntu debian", "VERSION_ID": "12"}, 100, "6.1.0")
	for _, c := range []struct {
		key  string
		want any
	}{
		{"Hostname", hostname}, {"Fqdn", hostname}, {"OS", runtime.GOOS}, {"Architecture", runtime.GOARCH},
		{"Platform", "debian"}, {"PlatformFamily", "ubuntu"}, {"PlatformVersion", "12"}, {"KernelVersion", "6.1.0"},
		{"Uptime", int64(100)}, {"CWD", cwd}, {"IsAdmin", os.Geteuid() == 0}, {"CompilerVersion", runtime.Version()},
	} {
		if got, _ := row.Get(c.key); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %#v, want %#v", c.key, got, c.want)
		}
	}
	boot, _ := row.Get("BootTime")
	if n, ok := value.ToInt64(boot); !ok || n <= 0 {
		t.Errorf("BootTime %v", boot)
	}
	if got := hostInfo(nil, 0, "").Keys(); len(got) != 17 {
		t.Errorf("columns without a platform's files: %v", got)
	}
	if b, _ := hostInfo(nil, 0, "").Get("BootTime"); b != int64(0) {
		t.Errorf("BootTime without an uptime: %v", b)
	}
}
