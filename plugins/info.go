package plugins

import (
	"bufio"
	"context"
	"iter"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// processStart is when this process started, info()'s ClientStart.
var processStart = time.Now()

// Info is one row about the machine and the process the query runs in,
// with the columns of Velociraptor's info() that server artifacts read
// (Hostname, OS, Fqdn, …). What the platform does not tell (no
// /etc/os-release, no /proc) is empty or 0.
var Info = vql.PluginFunc{
	Meta: vql.Info{Name: "info", Permissions: []vql.Permission{vql.PermMachineState}, Doc: "One row about this machine and process: Hostname, Uptime, BootTime, OS, Platform, PlatformFamily, PlatformVersion, KernelVersion, Architecture, Fqdn, Exe, CWD, IsAdmin, ClientStart, LocalTZ, LocalTZOffset, CompilerVersion."},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			yield(hostInfo(readOSRelease("/etc/os-release"), readUptime("/proc/uptime"), readText("/proc/sys/kernel/osrelease")))
		}
	},
}

// hostInfo builds the row from what was read of the platform.
func hostInfo(release map[string]string, uptime int64, kernel string) *ordereddict.Dict {
	hostname, _ := os.Hostname()
	exe, _ := os.Executable()
	cwd, _ := os.Getwd()
	now := time.Now()
	zone, offset := now.Zone()
	var boot int64
	if uptime > 0 {
		boot = now.Unix() - uptime
	}
	family, _, _ := strings.Cut(release["ID_LIKE"], " ")
	if family == "" {
		family = release["ID"]
	}
	return ordereddict.NewDict().
		Set("Hostname", hostname).Set("Uptime", uptime).Set("BootTime", boot).
		Set("OS", runtime.GOOS).Set("Platform", release["ID"]).Set("PlatformFamily", family).
		Set("PlatformVersion", release["VERSION_ID"]).Set("KernelVersion", kernel).
		Set("Architecture", runtime.GOARCH).Set("Fqdn", hostname).
		Set("Exe", exe).Set("CWD", cwd).Set("IsAdmin", os.Geteuid() == 0).
		Set("ClientStart", processStart.UTC()).Set("LocalTZ", zone).Set("LocalTZOffset", int64(offset)).
		Set("CompilerVersion", runtime.Version())
}

// readOSRelease reads KEY=value lines (values possibly quoted), as
// /etc/os-release holds them; nil when the file cannot be read.
func readOSRelease(path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		if u, err := strconv.Unquote(val); err == nil {
			val = u
		} else {
			val = strings.Trim(val, `'`)
		}
		out[key] = val
	}
	return out
}

// readUptime is the whole seconds since boot from /proc/uptime's first
// field; 0 when unknown.
func readUptime(path string) int64 {
	first, _, _ := strings.Cut(readText(path), " ")
	secs, err := strconv.ParseFloat(first, 64)
	if err != nil {
		return 0
	}
	return int64(secs)
}

// readText is a small file's text without surrounding space; "" when it
// cannot be read.
func readText(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
