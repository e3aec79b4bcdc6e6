package functions

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/Velocidex/ordereddict"
	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// parse_binary reads a binary structure described by a profile, in
// Velociraptor's vtypes form:
//
//	[ ["Header", 16, [ ["Magic", 0, "String", {"length": 4}],
//	                   ["Count", 4, "uint32"],
//	                   ["Items", 8, "Array", {"type": "uint16", "count": "x=>x.Count"}] ]] ]
//
// A struct has a size (a number or a lambda) and fields at offsets (a
// number or a lambda of the struct parsed so far, x). Field types are the
// integers (uint8 … int64, with a b suffix for big-endian), float and
// double, String, Array, Enumeration, Flags, BitField, Value (a lambda),
// Union (a struct chosen by a selector), WinFileTime/FILETIME and
// Timestamp, and the profile's own structs. Profiles may hold # comments
// and trailing commas (they are read as YAML). Velociraptor parses
// lazily; vqlq parses a struct's fields when it is read, Value fields
// last, so a lambda sees every other field. Pointer and Profile types
// are not supported.
type binProfile map[string]*binStructDef

type binStructDef struct {
	name   string
	size   any // int64, lambda text, or nil
	fields []binFieldDef
}

type binFieldDef struct {
	name   string
	offset any // int64 or lambda text
	typ    string
	opts   map[string]any
}

// parsed profiles, by text: artifacts parse many records with one.
var binProfiles = newTextCache[binProfile]()

func parseProfile(text string) (binProfile, error) {
	if p, ok := binProfiles.get(text); ok {
		return p, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("profile: %v", err)
	}
	raw, err := newYAMLConv(true).convert(&doc)
	if err != nil {
		return nil, fmt.Errorf("profile: %v", err)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("profile: want a list of [name, size, fields]")
	}
	p := binProfile{}
	for _, s := range list {
		def, ok := s.([]any)
		if !ok || len(def) < 3 {
			return nil, fmt.Errorf("profile: a struct must be [name, size, fields], not %v", s)
		}
		name := fmt.Sprint(def[0])
		fields, ok := def[2].([]any)
		if !ok {
			return nil, fmt.Errorf("profile: struct %s: fields must be a list", name)
		}
		sd := &binStructDef{name: name, size: yamlNumber(def[1])}
		for _, f := range fields {
			fd, ok := f.([]any)
			if !ok || len(fd) < 3 {
				return nil, fmt.Errorf("profile: struct %s: a field must be [name, offset, type, options], not %v", name, f)
			}
			field := binFieldDef{name: fmt.Sprint(fd[0]), offset: yamlNumber(fd[1]), typ: fmt.Sprint(fd[2]), opts: map[string]any{}}
			if len(fd) > 3 {
				if m, ok := fd[3].(map[string]any); ok {
					field.opts = m
				}
			}
			sd.fields = append(sd.fields, field)
		}
		p[name] = sd
	}
	binProfiles.put(text, p)
	return p, nil
}

func yamlNumber(v any) any {
	switch t := v.(type) {
	case int:
		return int64(t)
	case uint64:
		return int64(t)
	case float64:
		return int64(t)
	}
	return v
}

// binParser reads one data buffer with one profile.
type binParser struct {
	c       call
	profile binProfile
	data    []byte
	depth   int
	// tooDeep is set when structs nested past the limit: the whole parse
	// is then NULL rather than a truncated tower.
	tooDeep bool
}

// BinStruct is a parsed struct: its fields, and StartOf, EndOf and
// SizeOf, which offsets of later fields often use.
type BinStruct struct {
	fields *ordereddict.Dict
	start  int64
	size   int64
}

// Get reads a field or StartOf, EndOf, SizeOf.
func (s *BinStruct) Get(key string) (any, bool) {
	switch key {
	case "StartOf":
		return s.start, true
	case "EndOf":
		return s.start + s.size, true
	case "SizeOf":
		return s.size, true
	}
	return s.fields.Get(key)
}

// Keys lists the fields.
func (s *BinStruct) Keys() []string { return s.fields.Keys() }

// MarshalJSON writes the fields.
func (s *BinStruct) MarshalJSON() ([]byte, error) { return value.EncodeJSON(s.fields) }

// number evaluates a size, offset or count: a number or a lambda of x.
func (p *binParser) number(v any, x any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case string:
		if n, err := strconv.ParseInt(t, 0, 64); err == nil {
			return n, true
		}
		l, err := parseLambda(t)
		if err != nil {
			p.c.scope.Errorf("parse_binary: %v", err)
			return 0, false
		}
		return value.ToInt64(l.call(p.c, x))
	case nil:
		return 0, false
	}
	return value.ToInt64(v)
}

func (p *binParser) parseStruct(name string, at int64) (*BinStruct, bool) {
	def, ok := p.profile[name]
	if !ok {
		p.c.scope.Errorf("parse_binary: no struct %s in the profile", name)
		return nil, false
	}
	if p.depth > 50 {
		if !p.tooDeep {
			p.c.scope.Errorf("parse_binary: structs nest deeper than 50 at %s", name)
		}
		p.tooDeep = true
		return nil, false
	}
	p.depth++
	defer func() { p.depth-- }()
	s := &BinStruct{fields: ordereddict.NewDict(), start: at}
	for _, f := range def.fields {
		s.fields.Set(f.name, nil) // keep the declared order
	}
	var end int64
	for pass := 0; pass < 2; pass++ {
		for _, f := range def.fields {
			if (f.typ == "Value") != (pass == 1) {
				continue
			}
			v, off, size := p.parseField(s, f, at)
			s.fields.Update(f.name, v)
			end = max(end, off+size)
		}
	}
	s.size = end
	if n, ok := p.number(def.size, s); ok && n > 0 {
		s.size = n
	}
	return s, true
}

// parseField reads a field of s (based at base); off and size are where
// it lies relative to base (0, 0 for a Value or an unknown offset).
func (p *binParser) parseField(s *BinStruct, f binFieldDef, base int64) (v any, off, size int64) {
	if f.typ == "Value" {
		if l, ok := f.opts["value"].(string); ok && strings.Contains(l, "=>") {
			lam, err := parseLambda(l)
			if err != nil {
				p.c.scope.Errorf("parse_binary: field %s: %v", f.name, err)
				return nil, 0, 0
			}
			return lam.call(p.c, s), 0, 0
		}
		return f.opts["value"], 0, 0
	}
	off, ok := p.number(f.offset, s)
	if !ok {
		return nil, 0, 0
	}
	v, size = p.parseType(s, f.typ, f.opts, base+off)
	return v, off, size
}

// readNumber reads the integer a typed value (an enumeration, a time) is
// stored as: its options' type, else def.
func (p *binParser) readNumber(inner, def string, at int64) (int64, int64, bool) {
	if inner == "" {
		inner = def
	}
	raw, size, ok := p.readInt(inner, at)
	if !ok {
		return 0, 0, false
	}
	n, _ := value.ToInt64(raw)
	return n, size, true
}

// parseType reads one value of typ at the absolute offset at.
func (p *binParser) parseType(parent *BinStruct, typ string, opts map[string]any, at int64) (any, int64) {
	if v, size, ok := p.readInt(typ, at); ok {
		return v, size
	}
	inner, _ := opts["type"].(string)
	switch typ {
	case "String":
		return p.readString(parent, opts, at)
	case "Array":
		return p.readArray(parent, inner, opts, at)
	case "Enumeration", "Flags", "BitField":
		n, size, ok := p.readNumber(inner, "uint32", at)
		if !ok {
			return nil, 0
		}
		return decodeBits(typ, n, opts), size
	case "WinFileTime", "FILETIME":
		n, size, ok := p.readNumber(inner, "uint64", at)
		if !ok {
			return nil, 0
		}
		if n <= 0 {
			return time.Unix(0, 0).UTC(), size
		}
		return value.FileTime(n), size
	case "Timestamp":
		n, size, ok := p.readNumber(inner, "uint32", at)
		if !ok {
			return nil, 0
		}
		return time.Unix(n, 0).UTC(), size
	case "Union":
		sel, _ := opts["selector"].(string)
		choices, _ := opts["choices"].(map[string]any)
		l, err := parseLambda(sel)
		if err != nil {
			p.c.scope.Errorf("parse_binary: Union: %v", err)
			return nil, 0
		}
		name, ok := choices[toString(l.call(p.c, parent))].(string)
		if !ok {
			return nil, 0
		}
		return p.parseType(parent, name, nil, at)
	}
	if _, isStruct := p.profile[typ]; isStruct {
		s, ok := p.parseStruct(typ, at)
		if !ok {
			return nil, 0
		}
		return s, s.size
	}
	p.c.scope.Errorf("parse_binary: unknown type %s", typ)
	return nil, 0
}

var intSizes = map[string]int64{"uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "uint32": 4, "int32": 4, "uint64": 8, "int64": 8, "float": 4, "double": 8}

// readInt reads the integer and float types; ok is false for other
// types. Reads past the data are NULL with a size.
func (p *binParser) readInt(typ string, at int64) (any, int64, bool) {
	name, big := typ, false
	if strings.HasSuffix(typ, "b") && intSizes[strings.TrimSuffix(typ, "b")] > 1 {
		name, big = strings.TrimSuffix(typ, "b"), true
	}
	size, ok := intSizes[name]
	if !ok {
		return nil, 0, false
	}
	if at < 0 || at+size > int64(len(p.data)) {
		return nil, size, true
	}
	b := p.data[at : at+size]
	var order binary.ByteOrder = binary.LittleEndian
	if big {
		order = binary.BigEndian
	}
	var u uint64
	switch size {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(order.Uint16(b))
	case 4:
		u = uint64(order.Uint32(b))
	case 8:
		u = order.Uint64(b)
	}
	switch name {
	case "int8":
		return int64(int8(u)), size, true
	case "int16":
		return int64(int16(u)), size, true
	case "int32":
		return int64(int32(u)), size, true
	case "int64", "uint64":
		return int64(u), size, true
	case "float":
		return float64(math.Float32frombits(uint32(u))), size, true
	case "double":
		return math.Float64frombits(u), size, true
	}
	return int64(u), size, true
}

// readString reads text: length bytes (a number or lambda), else up to the
// terminator (term, or term_hex; default NUL) within max_length (1024).
func (p *binParser) readString(parent *BinStruct, opts map[string]any, at int64) (any, int64) {
	if at < 0 || at > int64(len(p.data)) {
		return nil, 0
	}
	rest := p.data[at:]
	wide := strings.EqualFold(fmt.Sprint(opts["encoding"]), "utf16")
	maxLen := int64(1024)
	if n, ok := p.number(opts["max_length"], parent); ok {
		maxLen = n
	}
	var raw []byte
	if n, ok := p.number(opts["length"], parent); ok && opts["length"] != nil {
		raw = rest[:max(0, min(n, int64(len(rest))))]
	} else {
		term := []byte{0}
		if wide {
			term = []byte{0, 0}
		}
		if t, ok := opts["term"].(string); ok {
			term = []byte(t)
		}
		if h, ok := opts["term_hex"].(string); ok {
			term, _ = decodeHex(h)
		}
		raw = rest[:min(maxLen, int64(len(rest)))]
		if i := indexTerm(raw, term, wide); i >= 0 {
			raw = raw[:i]
		}
	}
	size := int64(len(raw))
	if wide {
		units := make([]uint16, len(raw)/2)
		for i := range units {
			units[i] = binary.LittleEndian.Uint16(raw[2*i:])
		}
		s := string(utf16.Decode(units))
		return strings.TrimRight(s, "\x00"), size
	}
	return strings.TrimRight(string(raw), "\x00"), size
}

// indexTerm finds the terminator; in UTF-16 only at even offsets.
func indexTerm(b, term []byte, wide bool) int {
	if len(term) == 0 {
		return -1
	}
	for i := 0; i+len(term) <= len(b); i++ {
		if wide && i%2 == 1 {
			continue
		}
		if string(b[i:i+len(term)]) == string(term) {
			return i
		}
	}
	return -1
}

func decodeHex(h string) ([]byte, error) {
	out := make([]byte, 0, len(h)/2)
	for i := 0; i+1 < len(h); i += 2 {
		n, err := strconv.ParseUint(h[i:i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out = append(out, byte(n))
	}
	return out, nil
}

// maxArray bounds an Array's count (a corrupt count must not allocate
// without limit).
const maxArray = 100000

func (p *binParser) readArray(parent *BinStruct, inner string, opts map[string]any, at int64) (any, int64) {
	count, ok := p.number(opts["count"], parent)
	if !ok {
		return nil, 0
	}
	limit := int64(maxArray)
	if n, ok := p.number(opts["max_count"], parent); ok {
		limit = min(n, maxArray)
	}
	count = max(0, min(count, limit))
	innerOpts, _ := opts["type_options"].(map[string]any)
	if innerOpts == nil {
		innerOpts = map[string]any{}
	}
	out := make([]any, 0, count)
	pos := at
	for i := int64(0); i < count && pos < int64(len(p.data)); i++ {
		v, size := p.parseType(parent, inner, innerOpts, pos)
		if size <= 0 {
			break
		}
		out = append(out, v)
		pos += size
	}
	return out, pos - at
}

// decodeBits reads Enumeration (a choice name, else the number), Flags
// (the names of the set bits) and BitField (bits start_bit up to end_bit).
func decodeBits(typ string, n int64, opts map[string]any) any {
	switch typ {
	case "Enumeration":
		choices, _ := opts["choices"].(map[string]any)
		for k, v := range choices {
			if kn, err := strconv.ParseInt(k, 0, 64); err == nil && kn == n {
				return toString(v)
			}
		}
		return strconv.FormatInt(n, 10)
	case "Flags":
		bitmap, _ := opts["bitmap"].(map[string]any)
		names := []string{}
		for name, bit := range bitmap {
			if b, ok := value.ToInt64(yamlNumber(bit)); ok && n&(1<<b) != 0 {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		return toAnyList(names)
	}
	start, _ := value.ToInt64(yamlNumber(opts["start_bit"]))
	end, ok := value.ToInt64(yamlNumber(opts["end_bit"]))
	if !ok || end <= start {
		end = 64
	}
	return (n >> start) & (1<<(end-start) - 1)
}

// ParseBinary parses data with a profile.
var ParseBinary = fn("parse_binary", "The struct named struct, parsed from the data at offset with a vtypes profile (see the doc of parse_binary).",
	[]vql.ArgSpec{
		arg("filename", vql.TypeString, true, "The data (with accessor=\"data\")."),
		accessorArg,
		arg("profile", vql.TypeString, true, "The profile: a list of [name, size, [[field, offset, type, options], …]]."),
		arg("struct", vql.TypeString, true, "The struct to parse."),
		arg("offset", vql.TypeInt, false, "Where the struct starts (default 0)."),
	}, func(c call) any {
		profile, name, offset := c.args.String("profile", ""), c.args.String("struct", ""), c.args.Int("offset", 0)
		if c.args.Failed() {
			return nil
		}
		data, ok := accessors.ReadArg(c.ctx, c.scope, c.args, "parse_binary", "filename")
		if !ok {
			return nil
		}
		prof, err := parseProfile(profile)
		if err != nil {
			c.scope.Errorf("parse_binary: %v", err)
			return nil
		}
		p := &binParser{c: c, profile: prof, data: data}
		s, ok := p.parseStruct(name, offset)
		if !ok || p.tooDeep {
			return nil
		}
		return s
	})
