package host_test

import (
	"net"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestInterfaces reads the loopback interface of the machine, as
// Generic.Network.InterfaceAddresses selects its columns.
func TestInterfaces(t *testing.T) {
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var lo net.Interface
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback != 0 {
			lo = i
		}
	}
	if lo.Name == "" {
		t.Fatalf("no loopback interface among %v", ifaces)
	}
	want := `[{"Index":` + itoa(lo.Index) + `,"MTU":` + itoa(lo.MTU) + `,"Name":"` + lo.Name + `","HardwareAddr":"","Flags":"` + lo.Flags.String() + `","IP":"127.0.0.1","Mask":"ff000000"}]`
	vqltest.RunWith(t, all, []vqltest.Case{
		{"loopback", `LET interface_address = SELECT Index, MTU, Name, HardwareAddr.String AS HardwareAddr, Flags, Addrs FROM interfaces()
SELECT Index, MTU, Name, HardwareAddr, Flags, Addrs.IP AS IP, Addrs.Mask.String AS Mask
FROM flatten(query=interface_address) WHERE Name = '` + lo.Name + `' AND IP = '127.0.0.1'`, want, ""},
	})
}
