// Package flood holds what tests of a server's limits send it: bodies of a
// gigabyte that are never held in memory, by the test or anyone else, and
// raw requests that read the answer while still writing.
package flood

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Repeat returns size bytes of unit, repeated (the last copy cut short).
func Repeat(unit []byte, size int64) io.Reader {
	return &reader{unit: unit, left: size}
}

type reader struct {
	unit []byte
	left int64
	off  int
}

func (g *reader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.left > 0 {
		c := copy(p[n:min(len(p), n+int(min(g.left, int64(len(g.unit)-g.off))))], g.unit[g.off:])
		n += c
		g.off = (g.off + c) % len(g.unit)
		g.left -= int64(c)
	}
	return n, nil
}

// RawStatus writes parts on a new connection to addr and returns the
// status of the answer, read while still writing, as a client that does
// not wait for the server does. parts may be shared by many requests, so
// a flood of them costs the test nothing.
func RawStatus(addr string, timeout time.Duration, parts ...[]byte) (int, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	go func() {
		for _, p := range parts {
			if _, err := conn.Write(p); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0, err
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, fmt.Errorf("answer %q", line)
	}
	return strconv.Atoi(f[1])
}
