package host

import (
	"context"
	"iter"
	"syscall"

	"github.com/Velocidex/ordereddict"
	gonet "github.com/shirou/gopsutil/v4/net"

	"github.com/vqlq/vqlq/vql"
)

// Netstat lists the host's sockets with the columns of Velociraptor's
// netstat(): Pid, FamilyString, TypeString, Status, Laddr and Raddr
// (each with IP and Port), then the numeric Family and Type, Fd and Uids.
// On Linux gopsutil reads /proc/net/{tcp,tcp6,udp,udp6,unix} and finds
// each socket's process by matching its inode among /proc/*/fd; on macOS
// it asks lsof (TCP and UDP only), as Velociraptor's netstat() does there.
var Netstat = vql.PluginFunc{
	Meta: vql.Info{Name: "netstat", Doc: "The host's sockets (TCP, UDP, unix): Pid, FamilyString, TypeString, Status, Laddr.IP, Laddr.Port, Raddr.IP, Raddr.Port, Family, Type, Fd, Uids.",
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return sockets(ctx, scope, "netstat", netstatRow)
	},
}

// Connections is the same sockets in the shape Velociraptor's Linux
// connections() gives them (gopsutil's own): Fd, Family, Type, Laddr,
// Raddr, Status, Uids, Pid.
var Connections = vql.PluginFunc{
	Meta: vql.Info{Name: "connections", Doc: "The host's sockets (TCP, UDP, unix): Fd, Family, Type, Laddr.IP, Laddr.Port, Raddr.IP, Raddr.Port, Status, Uids, Pid.",
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return sockets(ctx, scope, "connections", connectionRow)
	},
}

// sockets yields every socket of the host through shape.
func sockets(ctx context.Context, scope *vql.Scope, name string, shape func(gonet.ConnectionStat) *ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		conns, err := gonet.ConnectionsWithContext(ctx, "all")
		if err != nil {
			scope.Errorf("%s: %v", name, err)
			return
		}
		for _, c := range conns {
			if ctx.Err() != nil || !yield(shape(c)) {
				return
			}
		}
	}
}

func netstatRow(c gonet.ConnectionStat) *ordereddict.Dict {
	return ordereddict.NewDict().
		Set("Pid", int64(c.Pid)).Set("FamilyString", familyString(c.Family)).
		Set("TypeString", typeString(c.Family, c.Type)).Set("Status", c.Status).
		Set("Laddr", addr(c.Laddr)).Set("Raddr", addr(c.Raddr)).
		Set("Family", int64(c.Family)).Set("Type", int64(c.Type)).
		Set("Fd", int64(c.Fd)).Set("Uids", uids(c.Uids))
}

func connectionRow(c gonet.ConnectionStat) *ordereddict.Dict {
	return ordereddict.NewDict().
		Set("Fd", int64(c.Fd)).Set("Family", int64(c.Family)).Set("Type", int64(c.Type)).
		Set("Laddr", addr(c.Laddr)).Set("Raddr", addr(c.Raddr)).
		Set("Status", c.Status).Set("Uids", uids(c.Uids)).Set("Pid", int64(c.Pid))
}

// addr is an endpoint as {IP, Port}; a unix socket's path is its IP, as
// gopsutil (and so Velociraptor) reports it.
func addr(a gonet.Addr) *ordereddict.Dict {
	return ordereddict.NewDict().Set("IP", a.IP).Set("Port", int64(a.Port))
}

func uids(u []int32) []any {
	out := make([]any, len(u))
	for i, n := range u {
		out[i] = int64(n)
	}
	return out
}

// familyString names an address family as Velociraptor's netstat does.
func familyString(family uint32) string {
	switch family {
	case syscall.AF_INET:
		return "IPv4"
	case syscall.AF_INET6:
		return "IPv6"
	case syscall.AF_UNIX:
		return "UNIX"
	}
	return ""
}

// typeString names a socket type: TCP and UDP for internet sockets as
// Velociraptor's netstat does, the socket type for unix ones.
func typeString(family, typ uint32) string {
	unix := family == syscall.AF_UNIX
	switch {
	case typ == syscall.SOCK_STREAM && !unix:
		return "TCP"
	case typ == syscall.SOCK_DGRAM && !unix:
		return "UDP"
	case typ == syscall.SOCK_STREAM:
		return "STREAM"
	case typ == syscall.SOCK_DGRAM:
		return "DGRAM"
	case typ == syscall.SOCK_SEQPACKET:
		return "SEQPACKET"
	}
	return ""
}
