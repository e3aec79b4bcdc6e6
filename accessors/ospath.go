package accessors

import (
	"encoding/json"
	"strings"

	"github.com/vqlq/vqlq/vql/value"
)

// Paths follow Velociraptor's OSPath model: a path is a list of components
// parsed by a path type (linux, windows, registry, ntfs, generic) and
// written back by the same type, so `basename()` of a Windows path and of
// a Linux path agree on what a component is. A component that holds a
// separator is written in double quotes and read back whole.
//
// A pathspec's delegate names the file an accessor opens first (the zip
// accessor reads the archive DelegatePath names, through DelegateAccessor)
// and is written as Velociraptor's JSON form. A path extends with `+` and
// slices as its components do (ospath_operators.go).

// OSPath is a parsed path. Its JSON form and .String are the path as its
// type writes it (the JSON pathspec form when it has a delegate).
type OSPath struct {
	Components       []string
	Type             string
	DelegateAccessor string
	DelegatePath     string
}

// guessPathType is the default when no path_type is given: backslashes
// or a drive letter mean a Windows path, anything else a generic one.
func guessPathType(s string) string {
	if strings.Contains(s, `\`) || (len(s) >= 2 && s[1] == ':') {
		return "windows"
	}
	return "generic"
}

var registryHives = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE", "HKU": "HKEY_USERS", "HKCU": "HKEY_CURRENT_USER",
	"HKCR": "HKEY_CLASSES_ROOT", "HKCC": "HKEY_CURRENT_CONFIG",
}

// ParsePath reads s as a path of type typ ("" guesses).
func ParsePath(s, typ string) *OSPath {
	if typ == "" {
		typ = guessPathType(s)
	}
	p := &OSPath{Type: typ}
	if strings.HasPrefix(s, "{") {
		var spec struct{ DelegateAccessor, DelegatePath, Path string }
		if json.Unmarshal([]byte(s), &spec) == nil {
			p.DelegateAccessor, p.DelegatePath = spec.DelegateAccessor, spec.DelegatePath
			p.Components = splitComponents(spec.Path, "/")
			return p
		}
	}
	seps := `/\`
	if typ == "linux" {
		seps = "/"
	}
	if typ == "windows" || typ == "ntfs" {
		if dev, rest, ok := windowsDevice(s); ok {
			p.Components = append([]string{dev}, splitComponents(rest, seps)...)
			return p
		}
	}
	p.Components = splitComponents(s, seps)
	if typ == "registry" && len(p.Components) > 0 {
		if long, ok := registryHives[strings.ToUpper(p.Components[0])]; ok {
			p.Components[0] = long
		}
	}
	return p
}

// windowsDevice splits off a device prefix such as
// `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy1` or `\\.\C:`, which is
// one component.
func windowsDevice(s string) (dev, rest string, ok bool) {
	for _, prefix := range []string{`\\?\GLOBALROOT\Device\`, `\\.\`, `\\?\`} {
		if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			n := strings.IndexAny(s[len(prefix):], `\/`)
			if n < 0 {
				return s, "", true
			}
			return s[:len(prefix)+n], s[len(prefix)+n:], true
		}
	}
	return "", "", false
}

// splitComponents splits on any of seps, dropping empty components and
// keeping a double-quoted component whole (without its quotes).
func splitComponents(s, seps string) []string {
	out := []string{}
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && cur.Len() == 0:
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				cur.WriteString(s[i:])
				i = len(s)
				continue
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case strings.IndexByte(seps, c) >= 0:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// serialize writes components with sep, quoting those that hold a
// separator.
func serialize(components []string, sep string) string {
	parts := make([]string, len(components))
	for i, c := range components {
		if strings.ContainsAny(c, `/\`) && !(i == 0 && strings.HasPrefix(c, `\\`)) {
			c = `"` + c + `"`
		}
		parts[i] = c
	}
	return strings.Join(parts, sep)
}

// PathString is the path as its type writes it, without the delegate.
func (p *OSPath) PathString() string {
	switch p.Type {
	case "windows", "ntfs", "registry":
		return serialize(p.Components, `\`)
	}
	return "/" + serialize(p.Components, "/")
}

// String is the path as Velociraptor prints it: the path itself, or the
// JSON pathspec when there is a delegate.
func (p *OSPath) String() string {
	if p.DelegateAccessor == "" && p.DelegatePath == "" {
		return p.PathString()
	}
	b := []byte(`{"DelegateAccessor":`)
	b = appendJSONText(b, p.DelegateAccessor)
	b = append(b, `,"DelegatePath":`...)
	b = appendJSONText(b, p.DelegatePath)
	if len(p.Components) > 0 {
		b = append(b, `,"Path":`...)
		b = appendJSONText(b, "/"+serialize(p.Components, "/"))
	}
	return string(append(b, '}'))
}

func appendJSONText(b []byte, s string) []byte {
	q, _ := value.AppendJSON(b, s)
	return q
}

// MarshalJSON writes the path as a string.
func (p *OSPath) MarshalJSON() ([]byte, error) { return value.EncodeJSON(p.String()) }

// WithComponents is a copy of p holding other components.
func (p *OSPath) WithComponents(components []string) *OSPath {
	c := *p
	c.Components = components
	return &c
}

// Get gives VQL the members Velociraptor's OSPath has.
func (p *OSPath) Get(key string) (any, bool) {
	switch key {
	case "Components":
		return toAnyList(p.Components), true
	case "Basename":
		if len(p.Components) == 0 {
			return "", true
		}
		return p.Components[len(p.Components)-1], true
	case "Dirname":
		if len(p.Components) == 0 {
			return p, true
		}
		return p.WithComponents(p.Components[:len(p.Components)-1]), true
	case "String":
		return p.String(), true
	case "Path":
		return p.PathString(), true
	case "HumanString":
		return p.human("generic"), true
	case "DelegateAccessor":
		return p.DelegateAccessor, true
	case "DelegatePath":
		return p.DelegatePath, true
	case "Type":
		return p.Type, true
	}
	return p.component(key)
}

// human is the path for people: each delegate, innermost first, then
// this path, joined by " -> "; each part written the way the accessor
// that reads it writes paths (typ for this one).
func (p *OSPath) human(typ string) string {
	own := "/" + serialize(p.Components, "/")
	if typ == "windows" {
		own = serialize(p.Components, `\`)
	}
	if p.DelegateAccessor == "" && p.DelegatePath == "" {
		return own
	}
	inner := p.DelegatePath
	if d := ParsePath(inner, "generic"); d.DelegateAccessor != "" || d.DelegatePath != "" {
		inner = d.human(accessorPathType(p.DelegateAccessor))
	}
	return inner + " -> " + own
}

// accessorPathType is how an accessor writes the paths it reads: the
// NTFS and registry ones Windows style, the others generic.
func accessorPathType(accessor string) string {
	switch accessor {
	case "ntfs", "raw_ntfs", "lazy_ntfs", "mft", "registry", "raw_reg", "reg":
		return "windows"
	}
	return "generic"
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
