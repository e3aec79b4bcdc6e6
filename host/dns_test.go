package host_test

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// TestHost resolves names through a real DNS server on loopback: a small
// UDP server in the test that speaks the DNS wire protocol for one zone
// (box.example: two A records and a TXT record; every other name does not
// exist).
func TestHost(t *testing.T) {
	server := dnsServer(t, map[uint16][][]byte{
		1:  {{10, 1, 2, 3}, {10, 1, 2, 4}},
		16: {append([]byte{7}, "v=hello"...)},
	})
	at := `, server="` + server + `"`
	vqltest.RunWith(t, all, []vqltest.Case{
		{"addresses", `SELECT host(name="box.example"` + at + `) AS IPs FROM scope()`, `[{"IPs":["10.1.2.3","10.1.2.4"]}]`, ""},
		{"A", `SELECT host(name="box.example", type="a"` + at + `) AS IPs FROM scope()`, `[{"IPs":["10.1.2.3","10.1.2.4"]}]`, ""},
		{"TXT", `SELECT host(name="box.example", type="TXT"` + at + `) AS T FROM scope()`, `[{"T":["v=hello"]}]`, ""},
		{"no such name", `SELECT host(name="nosuch.example"` + at + `) AS IPs FROM scope()`, `[{"IPs":null}]`, "no such host"},
		{"unknown type", `SELECT host(name="box.example", type="AXFR"` + at + `) AS IPs FROM scope()`, `[{"IPs":null}]`, `type "AXFR" is not one vqlq looks up`},
		{"an address is its own answer", `SELECT host(name="127.0.0.1") AS IPs FROM scope()`, `[{"IPs":["127.0.0.1"]}]`, ""},
	})
	stateOnly := vql.SessionOptions{Identity: vql.Identity{Granted: []vql.Permission{vql.PermMachineState}}}
	vqltest.RunWith(t, stateOnly, []vqltest.Case{
		{"a server needs NETWORK", `SELECT host(name="box.example"` + at + `) AS IPs FROM scope()`, `[{"IPs":null}]`, "host: permission denied: this session lacks NETWORK"},
	})
}

// dnsServer answers queries for box.example with the records of each
// type (rdata as sent), NXDOMAIN for other names. It returns its address.
func dnsServer(t *testing.T, records map[uint16][][]byte) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], records); resp != nil {
				conn.WriteTo(resp, from)
			}
		}
	}()
	return conn.LocalAddr().String()
}

// dnsAnswer builds the response to one query (RFC 1035 section 4).
func dnsAnswer(req []byte, records map[uint16][][]byte) []byte {
	if len(req) < 12 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(req) && req[i] != 0 {
		l := int(req[i])
		if i+1+l > len(req) {
			return nil
		}
		labels = append(labels, string(req[i+1:i+1+l]))
		i += 1 + l
	}
	qend := i + 5
	if qend > len(req) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(req[i+1:])
	var answers [][]byte
	flags := uint16(0x8180)
	if strings.EqualFold(strings.Join(labels, "."), "box.example") {
		answers = records[qtype]
	} else {
		flags |= 3 // NXDOMAIN
	}
	resp := append([]byte{}, req[:2]...)
	resp = binary.BigEndian.AppendUint16(resp, flags)
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(answers)))
	resp = append(resp, 0, 0, 0, 0)
	resp = append(resp, req[12:qend]...)
	for _, rdata := range answers {
		resp = append(resp, 0xc0, 0x0c)
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = binary.BigEndian.AppendUint16(resp, 1)
		resp = binary.BigEndian.AppendUint32(resp, 60)
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp
}
