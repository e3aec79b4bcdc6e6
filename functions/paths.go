package functions

import (
	"strings"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// The path functions read and write accessors.OSPath, Velociraptor's
// model of a path as components.

var pathTypeArg = arg("path_type", vql.TypeString, false, "How to read the path: linux, windows, registry, ntfs or generic (default: guessed from the separators).")

// pathTypes lists the path types vqlq reads.
var pathTypes = map[string]bool{"linux": true, "windows": true, "registry": true, "ntfs": true, "generic": true}

// pathArg reads a path argument: an OSPath as it is, a string parsed with
// the call's path_type. ok is false (and the error logged) for anything
// else or an unknown path type.
func pathArg(c call, name string) (*accessors.OSPath, bool) {
	typ := c.args.String("path_type", "")
	if c.args.Failed() {
		return nil, false
	}
	if typ != "" && !pathTypes[typ] {
		c.scope.Errorf("%s: unknown path_type %q (want linux, windows, registry, ntfs or generic)", c.name(), typ)
		return nil, false
	}
	switch v := c.args.Value(name).(type) {
	case *accessors.OSPath:
		if typ != "" && typ != v.Type {
			return accessors.ParsePath(v.PathString(), typ), true
		}
		return v, true
	case string:
		return accessors.ParsePath(v, typ), true
	case nil:
		return accessors.ParsePath("", typ), true
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
		return d.(*accessors.OSPath).String()
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
			return (&accessors.OSPath{Type: typ, Components: parts}).PathString()
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
			case *accessors.OSPath:
				return v.WithComponents(append([]string(nil), v.Components...))
			case string:
				return accessors.ParsePath(v, typ)
			default:
				c.scope.Errorf("pathspec: Field parse should be a string or a pathspec not %T", v)
				return nil
			}
		}
		if typ == "" {
			typ = "generic"
		}
		p := &accessors.OSPath{Type: typ, Components: []string{}, DelegateAccessor: c.args.String("DelegateAccessor", "")}
		delegate := c.args.Value("DelegatePath")
		if delegate == nil {
			delegate = c.args.Value("Delegate")
		}
		switch d := delegate.(type) {
		case *accessors.OSPath:
			p.DelegatePath = d.String()
		case string:
			p.DelegatePath = d
		case nil:
		default:
			c.scope.Errorf("pathspec: Field DelegatePath should be a string or a pathspec not %T", d)
			return nil
		}
		switch v := c.args.Value("Path").(type) {
		case *accessors.OSPath:
			p.Components = append(p.Components, v.Components...)
		case string:
			p.Components = accessors.ParsePath(v, typ).Components
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
