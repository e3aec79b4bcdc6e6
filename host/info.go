package host

import (
	"bufio"
	"context"
	"io"
	"iter"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	gohost "github.com/shirou/gopsutil/v4/host"

	"github.com/vqlq/vqlq/vql"
)

// processStart is when this process started, info()'s ClientStart.
var processStart = time.Now()

// Info is one row about the machine and the process the query runs in,
// with the columns of Velociraptor's info() in its order (Hostname,
// Uptime, BootTime, Procs, OS, Platform, …, Fqdn, Architecture), then
// vqlq's own (CWD, ClientStart, LocalTZ, LocalTZOffset). gopsutil reads
// what the platform tells (/proc, /etc/os-release, sysctl on macOS); what
// it does not tell is empty or 0.
var Info = vql.PluginFunc{
	Meta: vql.Info{Name: "info", Doc: "One row about this machine and process: Hostname, Uptime, BootTime, Procs, OS, Platform, PlatformFamily, PlatformVersion, KernelVersion, VirtualizationSystem, VirtualizationRole, CompilerVersion, HostID, Exe, IsAdmin, Fqdn, Architecture, CWD, ClientStart, LocalTZ, LocalTZOffset.",
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			stat, err := gohost.InfoWithContext(ctx)
			if err != nil {
				// Whatever was read is still worth a row.
				scope.Log(vql.LevelWarn, "info: %v", err)
			}
			if stat == nil {
				stat = &gohost.InfoStat{OS: runtime.GOOS}
			}
			yield(infoRow(stat))
		}
	},
}

// infoRow builds the row from what gopsutil read of the platform.
func infoRow(stat *gohost.InfoStat) *ordereddict.Dict {
	hostname := stat.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	exe, _ := os.Executable()
	cwd, _ := os.Getwd()
	zone, offset := time.Now().Zone()
	return ordereddict.NewDict().
		Set("Hostname", hostname).Set("Uptime", stat.Uptime).Set("BootTime", stat.BootTime).
		Set("Procs", stat.Procs).Set("OS", runtime.GOOS).Set("Platform", stat.Platform).
		Set("PlatformFamily", stat.PlatformFamily).Set("PlatformVersion", stat.PlatformVersion).
		Set("KernelVersion", stat.KernelVersion).
		Set("VirtualizationSystem", stat.VirtualizationSystem).Set("VirtualizationRole", stat.VirtualizationRole).
		Set("CompilerVersion", runtime.Version()).Set("HostID", stat.HostID).
		Set("Exe", exe).Set("IsAdmin", os.Geteuid() == 0).
		Set("Fqdn", fqdn(hostname)).Set("Architecture", runtime.GOARCH).
		Set("CWD", cwd).Set("ClientStart", processStart.UTC()).
		Set("LocalTZ", zone).Set("LocalTZOffset", int64(offset))
}

// fqdn is the host's fully qualified name: the canonical name of its
// hostname in /etc/hosts (the resolver's first answer), else the
// hostname itself. It asks no DNS server, so info() stays local.
func fqdn(hostname string) string {
	f, err := os.Open("/etc/hosts")
	if err != nil {
		return hostname
	}
	defer f.Close()
	return hostsFqdn(f, hostname)
}

// hostsFqdn finds hostname among the aliases of an /etc/hosts line and
// returns that line's canonical (first) name.
func hostsFqdn(r io.Reader, hostname string) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 || net.ParseIP(fields[0]) == nil {
			continue
		}
		for _, name := range fields[1:] {
			if strings.EqualFold(name, hostname) {
				if strings.Contains(fields[1], ".") {
					return fields[1]
				}
				return hostname
			}
		}
	}
	return hostname
}
