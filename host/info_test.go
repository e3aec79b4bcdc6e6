package host

import (
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	gohost "github.com/shirou/gopsutil/v4/host"
)

func TestInfoRow(t *testing.T) {
	cwd, _ := os.Getwd()
	row := infoRow(&gohost.InfoStat{Hostname: "box", Uptime: 100, BootTime: 1700000000, Procs: 42,
		Platform: "debian", PlatformFamily: "debian", PlatformVersion: "12", KernelVersion: "6.1.0",
		VirtualizationSystem: "kvm", VirtualizationRole: "guest", HostID: "abc-123"})
	want := []string{"Hostname", "Uptime", "BootTime", "Procs", "OS", "Platform", "PlatformFamily",
		"PlatformVersion", "KernelVersion", "VirtualizationSystem", "VirtualizationRole", "CompilerVersion",
		"HostID", "Exe", "IsAdmin", "Fqdn", "Architecture", "CWD", "ClientStart", "LocalTZ", "LocalTZOffset"}
	if got := row.Keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("columns %v\nwant %v", got, want)
	}
	for _, c := range []struct {
		key  string
		want any
	}{
		{"Hostname", "box"}, {"Uptime", uint64(100)}, {"BootTime", uint64(1700000000)}, {"Procs", uint64(42)},
		{"OS", runtime.GOOS}, {"Architecture", runtime.GOARCH},
		{"Platform", "debian"}, {"PlatformFamily", "debian"}, {"PlatformVersion", "12"}, {"KernelVersion", "6.1.0"},
		{"VirtualizationSystem", "kvm"}, {"VirtualizationRole", "guest"}, {"HostID", "abc-123"},
		{"CWD", cwd}, {"IsAdmin", os.Geteuid() == 0}, {"CompilerVersion", runtime.Version()},
	} {
		if got, _ := row.Get(c.key); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %#v, want %#v", c.key, got, c.want)
		}
	}
}

func TestHostsFqdn(t *testing.T) {
	hosts := "# comment\n127.0.0.1\tlocalhost\n10.0.0.5 box.example.org box # the box\n10.0.0.6 short\nnot-an-ip name.example\n"
	for _, c := range []struct{ hostname, want string }{
		{"box", "box.example.org"},
		{"BOX", "box.example.org"},
		{"short", "short"},
		{"name.example", "name.example"},
		{"absent", "absent"},
	} {
		if got := hostsFqdn(strings.NewReader(hosts), c.hostname); got != c.want {
			t.Errorf("%s: %q, want %q", c.hostname, got, c.want)
		}
	}
}
