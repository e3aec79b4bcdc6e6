package accessors

import (
	"strconv"

	"github.com/vqlq/vqlq/vql/value"
)

// A path extends with `+`, indexes and slices like the list of its
// components, as Velociraptor's OSPath does, so that artifacts can build
// paths without path_join: `pathspec(parse="C:\\Windows") + "System32"`,
// `OSPath[1:]` (the path without its drive), `OSPath[-1]` (its last
// component).

// Add is `p + other`: a string is read as a path of p's type and its
// components appended; a list appends each string (or path) element as
// it is, without reading separators in it; another path appends its
// components. The result is a new path. Anything else is not a path's
// to add (the built-in rules decide).
func (p *OSPath) Add(other any) (any, bool) {
	var more []string
	switch o := other.(type) {
	case string:
		more = ParsePath(o, p.Type).Components
	case *OSPath:
		more = o.Components
	default:
		list, ok := value.AsList(other)
		if !ok {
			return nil, false
		}
		for _, e := range list {
			switch e := e.(type) {
			case string:
				more = append(more, e)
			case *OSPath:
				more = append(more, e.Components...)
			default:
				return nil, false
			}
		}
	}
	components := make([]string, 0, len(p.Components)+len(more))
	return p.WithComponents(append(append(components, p.Components...), more...)), true
}

// Slice is `p[lo:hi]`: the path of those components, bounds as a list's
// (negative from the end, clamped).
func (p *OSPath) Slice(lo, hi any) (any, bool) {
	part, _ := value.Slice(toAnyList(p.Components), lo, hi).([]any)
	components := make([]string, len(part))
	for i, c := range part {
		components[i] = c.(string)
	}
	return p.WithComponents(components), true
}

// component is `p[i]` (the value layer reads an integer index of a keyed
// value as the member its digits name): the i-th component, counted from
// the end when negative; out of range is no member.
func (p *OSPath) component(key string) (any, bool) {
	i, err := strconv.Atoi(key)
	if err != nil {
		return nil, false
	}
	if i < 0 {
		i += len(p.Components)
	}
	if i < 0 || i >= len(p.Components) {
		return nil, false
	}
	return p.Components[i], true
}
