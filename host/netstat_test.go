package host_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestNetstat finds real sockets this test opened, with their ports and
// this process's pid: a TCP listener, a UDP socket and a unix listener.
func TestNetstat(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	sock := filepath.Join(t.TempDir(), "s.sock")
	unix, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	tport, uport, pid := tcp.Addr().(*net.TCPAddr).Port, udp.LocalAddr().(*net.UDPAddr).Port, os.Getpid()
	for _, c := range []struct{ name, query, want string }{
		{"tcp listener", fmt.Sprintf("SELECT Pid, FamilyString, TypeString, Status, Laddr.IP AS IP, Laddr.Port AS Port, Raddr.Port AS RPort, Family, Type FROM netstat() WHERE Laddr.Port = %d AND TypeString = 'TCP'", tport),
			fmt.Sprintf(`[{"Pid":%d,"FamilyString":"IPv4","TypeString":"TCP","Status":"LISTEN","IP":"127.0.0.1","Port":%d,"RPort":0,"Family":2,"Type":1}]`, pid, tport)},
		{"udp socket", fmt.Sprintf("SELECT Pid, TypeString, Laddr.Port AS Port FROM netstat() WHERE Laddr.Port = %d AND TypeString = 'UDP'", uport),
			fmt.Sprintf(`[{"Pid":%d,"TypeString":"UDP","Port":%d}]`, pid, uport)},
		{"unix listener", fmt.Sprintf("SELECT Pid, FamilyString, TypeString, Laddr.IP AS Path FROM netstat() WHERE Laddr.IP = %q", sock),
			fmt.Sprintf(`[{"Pid":%d,"FamilyString":"UNIX","TypeString":"STREAM","Path":%q}]`, pid, sock)},
		{"connections", fmt.Sprintf("SELECT * FROM connections() WHERE Laddr.Port = %d AND Type = 1", tport),
			fmt.Sprintf(`[{"Fd":%d,"Family":2,"Type":1,"Laddr":{"IP":"127.0.0.1","Port":%d},"Raddr":{"IP":"0.0.0.0","Port":0},"Status":"LISTEN","Uids":%s,"Pid":%d}]`, fd(t, tcp), tport, uidsJSON(), pid)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, all, c.query)
			if got != c.want {
				t.Errorf("%s\n got %s\nwant %s\nlogs %q", c.query, got, c.want, logs)
			}
		})
	}
}

// fd is the descriptor number of a listener.
func fd(t *testing.T, l net.Listener) int {
	raw, err := l.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	raw.Control(func(f uintptr) { n = int(f) })
	return n
}

// uidsJSON is the real, effective, saved and filesystem uid of this
// process, as /proc/self/status lists them.
func uidsJSON() string {
	u := os.Getuid()
	e := os.Geteuid()
	return fmt.Sprintf("[%d,%d,%d,%d]", u, e, e, e)
}

func itoa(n int) string { return fmt.Sprint(n) }
