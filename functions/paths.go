package functions

import (
	"encoding/json"
	"strings"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Paths follow Velociraptor's OSPath model: a path is a list of components
// parsed by a path type (linux, windows, registry, ntfs, generic) and
// written back by the same type, so `basename()` of a Windows path and of
// a Linux path agree on what a component is. A component that holds a
// separator is written in double quotes and read back whole.
//
// vqlq has no accessors yet, so a pathspec's delegate is only carried and
// serialised (as Velociraptor's JSON form), never opened. A path extends
// with `+` and slices as its components do (path_operators.go).

// OSPath is a parsed path. Its JSON form and .String are the path as its
// type writes it (the JSON pathspec form when it has a delegate).
type OSPath struct {
	Components       []string
	Type             string
	DelegateAccessor string
	DelegatePath     string
}

var pathTypeArg = arg("path_type", vql.TypeString, false, "How to read the path: linux, windows, registry, ntfs or generic (default: guessed from the separators).")

// pathTypes lists the path types vqlq reads.
var pathTypes = map[string]bool{"linux": true, "windows": true, "registry": true, "ntfs": true, "generic": true}

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

func (p *OSPath) with(components []string) *OSPath {
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
		return p.with(p.Components[:len(p.Components)-1]), true
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

// pathArg reads a path argument: an OSPath as it is, a string parsed with
// the call's path_type. ok is false (and the error logged) for anything
// else or an unknown path type.
func pathArg(c call, name string) (*OSPath, bool) {
	typ := c.args.String("path_type", "")
	if c.args.Failed() {
		return nil, false
	}
	if typ != "" && !pathTypes[typ] {
		c.scope.Errorf("%s: unknown path_type %q (want linux, windows, registry, ntfs or generic)", c.name(), typ)
		return nil, false
	}
	switch v := c.args.Value(name).(type) {
	case *OSPath:
		if typ != "" && typ != v.Type {
			return ParsePath(v.PathString(), typ), true
		}
		return v, true
	case string:
		return ParsePath(v, typ), true
	case nil:
		return ParsePath("", typ), true
	default:
		c.scope.Errorf("%s: Field %s should be a path or a string not %T", c.name(), name, v)
		return nil, false
	}
}

// Basename is the last component of a path.
var Basename = fn("basename", "The last component of a path.",
	[]vql.ArgSpec{arg("path", vql.TypeAny, true, "The path (a string or a pathspec)."), pathTypeArg},
	func(c call) any {
		p, ok := pathArg(c, "path")
		if !ok {
			return nil
		}
		b, _ := p.Get("Basename")
		return b
	})

// Dirname is a path without its last component.
var Dirname = fn("dirname", "The path without its last component.",
	[]vql.ArgSpec{arg("path", vql.TypeAny, true, "The path (a string or a pathspec)."), pathTypeArg},
	func(c call) any {
		p, ok := pathArg(c, "path")
		if !ok {
			return nil
		}
		d, _ := p.Get("Dirname")
		return d.(*OSPath).String()
	})

// PathSplit is a path's list of components.
var PathSplit = fn("path_split", "The components of a path, as a list of strings.",
	[]vql.ArgSpec{arg("path", vql.TypeAny, true, "The path (a string or a pathspec)."), pathTypeArg},
	func(c call) any {
		p, ok := pathArg(c, "path")
		if !ok {
			return nil
		}
		return toAnyList(p.Components)
	})

// PathJoin joins components into one path.
var PathJoin = fn("path_join", "Join components into a path: with path_type as that type writes it, otherwise with sep.",
	[]vql.ArgSpec{
		arg("components", vql.TypeList, true, "The components (strings) to join."),
		arg("sep", vql.TypeString, false, "Separator when no path_type is given (default /)."),
		pathTypeArg,
	}, func(c call) any {
		parts := c.args.Strings("components")
		sep, typ := c.args.String("sep", "/"), c.args.String("path_type", "")
		if c.args.Failed() {
			return nil
		}
		if typ != "" {
			if !pathTypes[typ] {
				c.scope.Errorf("path_join: unknown path_type %q (want linux, windows, registry, ntfs or generic)", typ)
				return nil
			}
			return (&OSPath{Type: typ, Components: parts}).PathString()
		}
		var b strings.Builder
		for i, part := range parts {
			if i > 0 {
				part = strings.TrimLeft(part, sep)
				if !strings.HasSuffix(b.String(), sep) {
					b.WriteString(sep)
				}
			}
			b.WriteString(part)
		}
		return b.String()
	})

// Relpath is path made relative to base.
var Relpath = fn("relpath", "The path relative to base, its components joined with sep.",
	[]vql.ArgSpec{
		arg("path", vql.TypeAny, true, "The path (a string or a pathspec)."),
		arg("base", vql.TypeAny, true, "The directory the result is relative to."),
		arg("sep", vql.TypeString, false, "Separator of the result (default /)."),
		pathTypeArg,
	}, func(c call) any {
		p, ok := pathArg(c, "path")
		if !ok {
			return nil
		}
		base, ok := pathArg(c, "base")
		sep := c.args.String("sep", "/")
		if !ok || c.args.Failed() {
			return nil
		}
		rest := p.Components
		for _, b := range base.Components {
			if len(rest) == 0 || !strings.EqualFold(rest[0], b) {
				return strings.Join(p.Components, sep)
			}
			rest = rest[1:]
		}
		return strings.Join(rest, sep)
	})

// Pathspec builds a structured path.
var Pathspec = fn("pathspec", "A structured path: parsed from parse, or built from Path and a delegate.",
	[]vql.ArgSpec{
		arg("DelegateAccessor", vql.TypeString, false, "The accessor the delegate path is opened with."),
		arg("DelegatePath", vql.TypeAny, false, "The delegate path (a string or another pathspec)."),
		arg("Delegate", vql.TypeAny, false, "The delegate as another pathspec."),
		arg("Path", vql.TypeAny, false, "The path inside the delegate."),
		arg("parse", vql.TypeAny, false, "Parse the pathspec from this string (or copy this pathspec)."),
		pathTypeArg,
		arg("accessor", vql.TypeString, false, "Accessor whose path type reads the path (accepted; vqlq has no accessors)."),
	}, func(c call) any {
		typ := c.args.String("path_type", "")
		if c.args.Failed() {
			return nil
		}
		if typ != "" && !pathTypes[typ] {
			c.scope.Errorf("pathspec: unknown path_type %q (want linux, windows, registry, ntfs or generic)", typ)
			return nil
		}
		if c.args.Has("parse") {
			switch v := c.args.Value("parse").(type) {
			case *OSPath:
				return v.with(append([]string(nil), v.Components...))
			case string:
				return ParsePath(v, typ)
			default:
				c.scope.Errorf("pathspec: Field parse should be a string or a pathspec not %T", v)
				return nil
			}
		}
		if typ == "" {
			typ = "generic"
		}
		p := &OSPath{Type: typ, Components: []string{}, DelegateAccessor: c.args.String("DelegateAccessor", "")}
		delegate := c.args.Value("DelegatePath")
		if delegate == nil {
			delegate = c.args.Value("Delegate")
		}
		switch d := delegate.(type) {
		case *OSPath:
			p.DelegatePath = d.String()
		case string:
			p.DelegatePath = d
		case nil:
		default:
			c.scope.Errorf("pathspec: Field DelegatePath should be a string or a pathspec not %T", d)
			return nil
		}
		switch v := c.args.Value("Path").(type) {
		case *OSPath:
			p.Components = append(p.Components, v.Components...)
		case string:
			p.Components = ParsePath(v, typ).Components
		case nil:
		default:
			c.scope.Errorf("pathspec: Field Path should be a string or a pathspec not %T", v)
			return nil
		}
		if c.args.Failed() {
			return nil
		}
		return p
	})
