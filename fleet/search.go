package fleet

import (
	"fmt"
	"strings"
)

// Search is a parsed clients(search=) expression: Velociraptor's client
// search bar. The forms are
//
//	all (or empty)  every client
//	label:X         clients carrying label X; label:none those with none
//	host:X          clients whose hostname (or fqdn) is X
//	client:X        clients whose id is X
//	ip:X            clients last seen from address X
//	X               clients whose id or hostname is X
//
// X matches without case; without a '*' it is a prefix (host:web finds
// web01), with one it is a wildcard pattern matched whole (host:*.corp).
type Search struct {
	op, pattern string
}

// ParseSearch reads a search expression; an operator vqlq does not know
// is an error naming it.
func ParseSearch(s string) (Search, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "all") || s == "*" {
		return Search{op: "all"}, nil
	}
	op, pattern, found := strings.Cut(s, ":")
	if !found {
		return Search{op: "", pattern: strings.ToLower(s)}, nil
	}
	op = strings.ToLower(strings.TrimSpace(op))
	switch op {
	case "label", "host", "client", "ip":
	default:
		return Search{}, fmt.Errorf("search %q: unknown operator %q (use all, label:, host:, client:, ip: or a client id or hostname)", s, op)
	}
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	if pattern == "" {
		return Search{}, fmt.Errorf("search %q: %s: needs a value", s, op)
	}
	return Search{op: op, pattern: pattern}, nil
}

// Match reports whether the client is one the search finds.
func (s Search) Match(c *Client) bool {
	switch s.op {
	case "all":
		return true
	case "label":
		if s.pattern == "none" {
			return len(c.Labels) == 0
		}
		for _, l := range c.Labels {
			if s.matches(l) {
				return true
			}
		}
		return false
	case "host":
		return s.matches(c.Hostname) || s.matches(c.FQDN)
	case "client":
		return s.matches(c.ClientID)
	case "ip":
		return s.matches(c.LastIP)
	}
	return s.matches(c.ClientID) || s.matches(c.Hostname) || s.matches(c.FQDN)
}

func (s Search) matches(v string) bool {
	if v == "" {
		return false
	}
	v = strings.ToLower(v)
	if !strings.Contains(s.pattern, "*") {
		return strings.HasPrefix(v, s.pattern)
	}
	return glob(s.pattern, v)
}

// glob matches v whole against pattern, where each '*' stands for any
// run of characters and every other character for itself.
func glob(pattern, v string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(v, mid)
		if i < 0 {
			return false
		}
		v = v[i+len(mid):]
	}
	return strings.HasSuffix(v, last)
}
