// Package repack embeds a configuration in a copy of the vqlq binary, as
// Velociraptor's repack() does for its clients: a deployment ships one
// file, and `vqlq client` on the endpoint finds its server, credentials
// and settings inside itself, with nothing to pass on its command line.
//
// The binary carries a fixed-size block in its data section: a header
// that no other byte run of the file holds, then the length of the
// configuration and the configuration itself (empty in a build). Pack
// finds the header in another copy of the binary and writes the
// configuration after it; nothing else of the file changes, so the
// binary still runs, and its signature (where it has one) is the only
// thing a repack invalidates. Embedded reads the block of the running
// binary.
package repack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// BlockSize is the room a configuration has, header and length
// included: enough for a client's settings, a CA certificate and a
// credential with plenty to spare.
const BlockSize = 32 << 10

// headerSize is the header's length; the length field follows it.
const headerSize = 32

// lengthSize is the 4-byte little-endian length of the configuration.
const lengthSize = 4

// MaxConfig is the longest configuration a block holds.
const MaxConfig = BlockSize - headerSize - lengthSize

// block is the running binary's configuration block. It is initialised
// statically, so the header is in the file where Pack looks for it;
// the rest is zero (no configuration) until a repack writes one.
var block = [BlockSize]byte{
	'#', '#', 'v', 'q', 'l', 'q', '-', 'e', 'm', 'b', 'e', 'd', 'd', 'e', 'd', '-',
	'c', 'o', 'n', 'f', 'i', 'g', '-', 'v', '1', '#', '#', 0x9e, 0x37, 0x79, 0xb9, 0x7f,
}

// header is the block's header. It is read from the block, never
// written as a literal of its own, so that it occurs once in the file.
func header() []byte { return block[:headerSize] }

// ErrNoBlock is a file that is not a vqlq binary (or was built without
// the block): there is nowhere to put the configuration.
var ErrNoBlock = errors.New("no vqlq configuration block in the file: repack a vqlq binary (a packaged installer such as an MSI holds it compressed, where it cannot be found)")

// ErrTooLarge is a configuration longer than the block holds.
var ErrTooLarge = fmt.Errorf("configuration too large: a vqlq binary holds at most %d bytes", MaxConfig)

// Embedded returns the configuration the running binary carries; false
// when it carries none.
func Embedded() ([]byte, bool) {
	return read(block[:])
}

// read reads a block that starts with the header.
func read(b []byte) ([]byte, bool) {
	n := binary.LittleEndian.Uint32(b[headerSize : headerSize+lengthSize])
	if n == 0 || int(n) > MaxConfig {
		return nil, false
	}
	start := headerSize + lengthSize
	return bytes.Clone(b[start : start+int(n)]), true
}

// Pack returns a copy of exe, a vqlq binary, that carries config
// (replacing any it carried).
func Pack(exe, config []byte) ([]byte, error) {
	if len(config) == 0 {
		return nil, errors.New("the configuration is empty")
	}
	if len(config) > MaxConfig {
		return nil, ErrTooLarge
	}
	at, err := find(exe)
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(exe)
	b := out[at : at+BlockSize]
	clear(b[headerSize:])
	binary.LittleEndian.PutUint32(b[headerSize:], uint32(len(config)))
	copy(b[headerSize+lengthSize:], config)
	return out, nil
}

// Read returns the configuration exe carries; false when it carries
// none.
func Read(exe []byte) ([]byte, bool, error) {
	at, err := find(exe)
	if err != nil {
		return nil, false, err
	}
	c, ok := read(exe[at : at+BlockSize])
	return c, ok, nil
}

// find is the offset of exe's block: the one place the header occurs,
// with a whole block after it.
func find(exe []byte) (int, error) {
	h := header()
	at := bytes.Index(exe, h)
	if at < 0 || len(exe)-at < BlockSize {
		return 0, ErrNoBlock
	}
	if bytes.Contains(exe[at+1:], h) {
		return 0, errors.New("the vqlq configuration block occurs twice in the file: it is not one vqlq binary")
	}
	return at, nil
}
