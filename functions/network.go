package functions

import (
	"encoding/binary"
	"net/netip"
	"net/url"
	"sort"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// URL is a parsed or built URL. VQL reads its parts (Scheme, Host,
// Hostname, Port, Path, RawQuery, Query, Fragment, User, String); its JSON
// form is the URL text.
type URL struct{ u *url.URL }

// Get gives VQL the URL's parts.
func (u URL) Get(key string) (any, bool) {
	switch key {
	case "Scheme":
		return u.u.Scheme, true
	case "Host":
		return u.u.Host, true
	case "Hostname":
		return u.u.Hostname(), true
	case "Port":
		return u.u.Port(), true
	case "Path":
		return u.u.Path, true
	case "RawQuery":
		return u.u.RawQuery, true
	case "Fragment":
		return u.u.Fragment, true
	case "User":
		return u.u.User.Username(), true
	case "String":
		return u.u.String(), true
	case "Query":
		// One value per name is a string, several a list, so that
		// `URL.Query + dict(lang="en")` replaces a parameter.
		d := ordereddict.NewDict()
		q := u.u.Query()
		for _, k := range sortedKeys(q) {
			if vs := q[k]; len(vs) == 1 {
				d.Set(k, vs[0])
			} else {
				d.Set(k, toAnyList(vs))
			}
		}
		return d, true
	}
	return nil, false
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MarshalJSON writes the URL as its text.
func (u URL) MarshalJSON() ([]byte, error) { return value.EncodeJSON(u.u.String()) }

// URLFn parses a URL or builds one from parts.
var URLFn = fn("url", "A URL parsed from parse, or built from scheme, host, path, query and fragment; read its parts as members.",
	[]vql.ArgSpec{
		arg("parse", vql.TypeString, false, "A URL to parse."),
		arg("scheme", vql.TypeString, false, "The scheme (http, https, …)."),
		arg("host", vql.TypeString, false, "The host, with an optional :port."),
		arg("path", vql.TypeString, false, "The path."),
		arg("query", vql.TypeDict, false, "Query parameters (a value may be a list)."),
		arg("fragment", vql.TypeString, false, "The fragment (after #)."),
	}, func(c call) any {
		if c.args.Has("parse") {
			s := c.args.String("parse", "")
			if c.args.Failed() {
				return nil
			}
			u, err := url.Parse(s)
			if err != nil {
				c.scope.Errorf("url: %v", err)
				return nil
			}
			return URL{u}
		}
		u := &url.URL{Scheme: c.args.String("scheme", ""), Host: c.args.String("host", ""),
			Path: c.args.String("path", ""), Fragment: c.args.String("fragment", "")}
		q := c.scope.Materialize(c.ctx, c.args.Value("query"))
		if c.args.Failed() {
			return nil
		}
		if q != nil {
			vals := url.Values{}
			for _, k := range value.Keys(q) {
				v, _ := value.Member(q, k)
				if l, ok := value.AsList(v); ok {
					for _, e := range l {
						vals.Add(k, toString(e))
					}
				} else {
					vals.Add(k, toString(v))
				}
			}
			u.RawQuery = vals.Encode()
		}
		return URL{u}
	})

// IP is an IP address. Its JSON form is the address text; VQL reads
// String, Is4, Is6, IsLoopback, IsPrivate, IsMulticast, IsUnspecified,
// IsGlobalUnicast and IsLinkLocal.
type IP struct{ a netip.Addr }

// Get gives VQL the address's properties.
func (ip IP) Get(key string) (any, bool) {
	a := ip.a
	switch key {
	case "String":
		return a.String(), true
	case "Is4":
		return a.Unmap().Is4(), true
	case "Is6":
		return a.Is6() && !a.Is4In6(), true
	case "IsLoopback":
		return a.IsLoopback(), true
	case "IsPrivate":
		return a.IsPrivate(), true
	case "IsMulticast":
		return a.IsMulticast(), true
	case "IsUnspecified":
		return a.IsUnspecified(), true
	case "IsGlobalUnicast":
		return a.IsGlobalUnicast(), true
	case "IsLinkLocal":
		return a.IsLinkLocalUnicast(), true
	}
	return nil, false
}

// MarshalJSON writes the address as text.
func (ip IP) MarshalJSON() ([]byte, error) { return value.EncodeJSON(ip.a.String()) }

// IPFn makes an IP address from text or from a 32-bit integer in either
// byte order (how Windows and Linux structures store IPv4 addresses).
var IPFn = fn("ip", "An IP address parsed from text, or from a 32-bit integer (netaddr4_le: little-endian, netaddr4_be: big-endian).",
	[]vql.ArgSpec{
		arg("parse", vql.TypeString, false, "An address as text (IPv4 or IPv6)."),
		arg("netaddr4_le", vql.TypeInt, false, "An IPv4 address as a little-endian 32-bit integer."),
		arg("netaddr4_be", vql.TypeInt, false, "An IPv4 address as a big-endian 32-bit integer."),
	}, func(c call) any {
		var b [4]byte
		switch {
		case c.args.Has("netaddr4_le"):
			binary.LittleEndian.PutUint32(b[:], uint32(c.args.Int("netaddr4_le", 0)))
		case c.args.Has("netaddr4_be"):
			binary.BigEndian.PutUint32(b[:], uint32(c.args.Int("netaddr4_be", 0)))
		default:
			s := c.args.String("parse", "")
			if c.args.Failed() {
				return nil
			}
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				c.scope.Errorf("ip: %v", err)
				return nil
			}
			return IP{a}
		}
		if c.args.Failed() {
			return nil
		}
		return IP{netip.AddrFrom4(b)}
	})

// CIDRContains tests an address against network ranges.
var CIDRContains = fn("cidr_contains", "TRUE when ip is in any of the CIDR ranges.",
	[]vql.ArgSpec{
		arg("ip", vql.TypeAny, true, "The address (text or ip())."),
		arg("ranges", vql.TypeList, true, "CIDR ranges such as 10.0.0.0/8."),
	}, func(c call) any {
		var a netip.Addr
		switch v := c.args.Value("ip").(type) {
		case IP:
			a = v.a
		case string:
			var err error
			if a, err = netip.ParseAddr(strings.TrimSpace(v)); err != nil {
				c.scope.Errorf("cidr_contains: %v", err)
				return nil
			}
		default:
			c.scope.Errorf("cidr_contains: Field ip should be an address not %s", value.TypeName(v))
			return nil
		}
		ranges := c.args.Strings("ranges")
		if c.args.Failed() {
			return nil
		}
		for _, r := range ranges {
			p, err := netip.ParsePrefix(strings.TrimSpace(r))
			if err != nil {
				c.scope.Errorf("cidr_contains: range %q: %v", r, err)
				return nil
			}
			if p.Contains(a.Unmap()) || p.Contains(a) {
				return true
			}
		}
		return false
	})
