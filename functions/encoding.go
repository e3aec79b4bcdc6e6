package functions

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"unicode/utf16"

	"github.com/vqlq/vqlq/vql"
)

// Byte strings in VQL are Go strings holding any bytes: the decoders here
// return such strings, and the encoders take them, the way Velociraptor
// passes binary data between read_file(), xor() and parse_binary().

// stringFn declares a function of one required string argument.
func stringFn(name, doc, argDoc string, body func(c call, s string) any) vql.FunctionFunc {
	return fn(name, doc, []vql.ArgSpec{arg("string", vql.TypeString, true, argDoc)}, func(c call) any {
		s := c.args.String("string", "")
		if c.args.Failed() {
			return nil
		}
		return body(c, s)
	})
}

// Base64Encode encodes a string in standard base64.
var Base64Encode = stringFn("base64encode", "The string encoded as standard base64.", "The data to encode.",
	func(c call, s string) any { return base64.StdEncoding.EncodeToString([]byte(s)) })

// Base64Decode decodes base64 in any of its common spellings (standard or
// URL alphabet, padded or not).
var Base64Decode = stringFn("base64decode", "The bytes base64 text stands for (standard or URL alphabet, padding optional).", "The base64 text.",
	func(c call, s string) any {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return string(b)
			}
		}
		c.scope.Errorf("base64decode: the string is not base64")
		return nil
	})

// Unhex decodes hex digits; like Velociraptor it keeps what decoded
// before the first bad digit rather than failing.
var Unhex = stringFn("unhex", "The bytes hex digits stand for (decoding stops at the first non-hex character).", "The hex text.",
	func(c call, s string) any {
		b, _ := hex.DecodeString(s)
		return string(b)
	})

// Xor applies a repeating key to a string, byte by byte.
var Xor = fn("xor", "The string XORed byte by byte with the repeating key.",
	[]vql.ArgSpec{
		arg("string", vql.TypeString, true, "The data."),
		arg("key", vql.TypeString, true, "The key, repeated over the data."),
	}, func(c call) any {
		s, key := c.args.String("string", ""), c.args.String("key", "")
		if c.args.Failed() {
			return nil
		}
		if key == "" {
			return s
		}
		out := []byte(s)
		for i := range out {
			out[i] ^= key[i%len(key)]
		}
		return string(out)
	})

// Rot13 rotates ASCII letters by 13 places.
var Rot13 = stringFn("rot13", "The string with every ASCII letter rotated by 13 places.", "The text.",
	func(c call, s string) any {
		out := []byte(s)
		for i, ch := range out {
			switch {
			case ch >= 'a' && ch <= 'z':
				out[i] = 'a' + (ch-'a'+13)%26
			case ch >= 'A' && ch <= 'Z':
				out[i] = 'A' + (ch-'A'+13)%26
			}
		}
		return string(out)
	})

// UTF16 decodes little-endian UTF-16 bytes, stopping at a NUL character
// (Windows strings are usually NUL terminated).
var UTF16 = stringFn("utf16", "The text little-endian UTF-16 bytes hold (up to the first NUL).", "The UTF-16LE bytes.",
	func(c call, s string) any {
		units := make([]uint16, 0, len(s)/2)
		for i := 0; i+1 < len(s); i += 2 {
			u := binary.LittleEndian.Uint16([]byte(s[i : i+2]))
			if u == 0 {
				break
			}
			units = append(units, u)
		}
		return string(utf16.Decode(units))
	})

// UTF16Encode encodes text as little-endian UTF-16 bytes.
var UTF16Encode = stringFn("utf16_encode", "The text as little-endian UTF-16 bytes.", "The text.",
	func(c call, s string) any {
		units := utf16.Encode([]rune(s))
		out := make([]byte, 2*len(units))
		for i, u := range units {
			binary.LittleEndian.PutUint16(out[2*i:], u)
		}
		return string(out)
	})

// maxInflated bounds what gunzip expands, so a small bomb cannot exhaust
// memory.
const maxInflated = 64 << 20

// Gzip compresses a string.
var Gzip = stringFn("gzip", "The string compressed with gzip.", "The data to compress.",
	func(c call, s string) any {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.String()
	})

// Gunzip expands gzip data.
var Gunzip = stringFn("gunzip", "The data gzip bytes expand to (at most 64 MiB).", "The gzip data.",
	func(c call, s string) any {
		r, err := gzip.NewReader(bytes.NewReader([]byte(s)))
		if err != nil {
			c.scope.Errorf("gunzip: %v", err)
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
		if err != nil {
			c.scope.Errorf("gunzip: %v", err)
			return nil
		}
		if len(b) > maxInflated {
			c.scope.Errorf("gunzip: the data expands to more than %d bytes", maxInflated)
			return nil
		}
		return string(b)
	})
