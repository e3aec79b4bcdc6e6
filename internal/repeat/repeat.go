// Package repeat makes large request bodies for tests of limits: a body of
// a gigabyte that is never held in memory, by the test or anyone else.
package repeat

import "io"

// Reader returns size bytes of unit, repeated (the last copy cut short).
func Reader(unit []byte, size int64) io.Reader {
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
