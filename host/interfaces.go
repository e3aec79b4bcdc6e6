package host

import (
	"context"
	"iter"
	"net"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// Interfaces lists the network interfaces with Velociraptor's columns:
// Index, MTU, Name, HardwareAddr, Flags, Addrs (each {IP, Mask}). As in
// Velociraptor, HardwareAddr.String and Addrs.Mask.String give the text
// forms (aa:bb:…, ffffff00); Flags is the flags' text (up|broadcast|…).
var Interfaces = vql.PluginFunc{
	Meta: vql.Info{Name: "interfaces", Doc: "The network interfaces: Index, MTU, Name, HardwareAddr, Flags, Addrs (IP, Mask).",
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			ifaces, err := net.Interfaces()
			if err != nil {
				scope.Errorf("interfaces: %v", err)
				return
			}
			for _, i := range ifaces {
				if ctx.Err() != nil || !yield(interfaceRow(scope, i)) {
					return
				}
			}
		}
	},
}

func interfaceRow(scope *vql.Scope, i net.Interface) *ordereddict.Dict {
	addrs := []any{}
	list, err := i.Addrs()
	if err != nil {
		scope.Log(vql.LevelWarn, "interfaces: %s: %v", i.Name, err)
	}
	for _, a := range list {
		if n, ok := a.(*net.IPNet); ok {
			addrs = append(addrs, ordereddict.NewDict().Set("IP", n.IP.String()).Set("Mask", text(n.Mask.String())))
		}
	}
	return ordereddict.NewDict().
		Set("Index", int64(i.Index)).Set("MTU", int64(i.MTU)).Set("Name", i.Name).
		Set("HardwareAddr", text(i.HardwareAddr.String())).Set("Flags", i.Flags.String()).
		Set("Addrs", addrs)
}

// text is a value shown as its text that also answers .String, the way
// Velociraptor's Go values (net.HardwareAddr, net.IPMask) do.
type text string

// String is the text, for the .String member artifacts read.
func (t text) String() string { return string(t) }
