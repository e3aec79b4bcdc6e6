package repack

import (
	"bytes"
	"errors"
	"testing"
)

// fakeExe is a file laid out as a binary is: bytes, the block as the
// build leaves it, more bytes.
func fakeExe() []byte {
	var b bytes.Buffer
	b.WriteString("\x7fELF some code and data before")
	b.Write(header())
	b.Write(make([]byte, BlockSize-headerSize))
	b.WriteString("and after")
	return b.Bytes()
}

func TestPackAndRead(t *testing.T) {
	exe := fakeExe()
	if _, ok, err := Read(exe); ok || err != nil {
		t.Fatalf("a build carries no configuration: ok %v, err %v", ok, err)
	}
	cases := []string{"server: https://a:8000\n", "x", string(bytes.Repeat([]byte("y"), MaxConfig))}
	for _, config := range cases {
		packed, err := Pack(exe, []byte(config))
		if err != nil {
			t.Fatalf("%d bytes: %v", len(config), err)
		}
		if len(packed) != len(exe) || !bytes.Equal(packed[:30], exe[:30]) || !bytes.HasSuffix(packed, []byte("and after")) {
			t.Errorf("%d bytes: the file around the block changed", len(config))
		}
		got, ok, err := Read(packed)
		if err != nil || !ok || string(got) != config {
			t.Errorf("%d bytes: read back %d bytes, %v, %v", len(config), len(got), ok, err)
		}
		// A packed binary repacks: the shorter configuration replaces it
		// whole.
		again, err := Pack(packed, []byte("short"))
		if got, _, _ := Read(again); err != nil || string(got) != "short" {
			t.Errorf("repacked: %q, %v", got, err)
		}
	}
}

func TestPackRefuses(t *testing.T) {
	exe := fakeExe()
	twice := append(append([]byte{}, exe...), exe...)
	cases := []struct {
		name   string
		exe    []byte
		config []byte
		want   error
	}{
		{"not a vqlq binary", []byte("MZ an MSI or anything else"), []byte("c"), ErrNoBlock},
		{"a block cut short", exe[:len(exe)-BlockSize], []byte("c"), ErrNoBlock},
		{"too large", exe, bytes.Repeat([]byte("z"), MaxConfig+1), ErrTooLarge},
	}
	for _, tc := range cases {
		if _, err := Pack(tc.exe, tc.config); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Pack(twice, []byte("c")); err == nil {
		t.Error("two blocks: accepted")
	}
	if _, err := Pack(exe, nil); err == nil {
		t.Error("an empty configuration: accepted")
	}
}

func TestTheRunningBinaryCarriesNone(t *testing.T) {
	if c, ok := Embedded(); ok {
		t.Errorf("a test binary carries %q", c)
	}
}
