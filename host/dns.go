package host

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vqlq/vqlq/vql"
)

// dnsTimeout bounds one lookup.
const dnsTimeout = 10 * time.Second

// Host resolves a name through the system's resolver, or through the DNS
// server given, and returns the answers as a list of strings. Like
// Velociraptor's host() it needs MACHINE_STATE; asking a server the query
// names reaches out of the machine, so server= needs NETWORK too.
var Host = vql.FunctionFunc{
	Meta: vql.Info{Name: "host", Doc: "Resolves name (DNS) and returns the answers as a list: addresses by default, or the records of type.",
		Args: []vql.ArgSpec{
			{Name: "name", Type: vql.TypeString, Required: true, Doc: "The name to look up (an address, with type PTR)."},
			{Name: "type", Type: vql.TypeString, Doc: "A, AAAA, CNAME, MX, NS, PTR or TXT (default: every address, IPv4 and IPv6)."},
			{Name: "server", Type: vql.TypeString, Doc: "A DNS server to ask (host or host:port) instead of the system's resolver; needs NETWORK."},
			{Name: "prefer_go", Type: vql.TypeBool, Doc: "Use Go's own resolver rather than the system's."},
		},
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
		name, typ := args.String("name", ""), strings.ToUpper(args.String("type", ""))
		server, preferGo := args.String("server", ""), args.Bool("prefer_go", false)
		if args.Failed() {
			return nil
		}
		if server != "" && !scope.Require("host", vql.PermNetwork) {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		defer cancel()
		answers, err := lookup(ctx, resolver(server, preferGo), name, typ)
		if err != nil {
			scope.Errorf("host: %v", err)
			return nil
		}
		out := make([]any, len(answers))
		for i, a := range answers {
			out[i] = a
		}
		return out
	},
}

// resolver is the system's resolver, or one that asks server.
func resolver(server string, preferGo bool) *net.Resolver {
	if server == "" {
		return &net.Resolver{PreferGo: preferGo}
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

func lookup(ctx context.Context, r *net.Resolver, name, typ string) ([]string, error) {
	switch typ {
	case "":
		return r.LookupHost(ctx, name)
	case "A", "AAAA":
		family := map[string]string{"A": "ip4", "AAAA": "ip6"}[typ]
		ips, err := r.LookupIP(ctx, family, name)
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = ip.String()
		}
		return out, err
	case "CNAME":
		c, err := r.LookupCNAME(ctx, name)
		return []string{c}, err
	case "MX":
		mx, err := r.LookupMX(ctx, name)
		out := make([]string, len(mx))
		for i, m := range mx {
			out[i] = fmt.Sprintf("%d %s", m.Pref, m.Host)
		}
		return out, err
	case "NS":
		ns, err := r.LookupNS(ctx, name)
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = n.Host
		}
		return out, err
	case "PTR":
		return r.LookupAddr(ctx, name)
	case "TXT":
		return r.LookupTXT(ctx, name)
	}
	return nil, fmt.Errorf("type %q is not one vqlq looks up: A, AAAA, CNAME, MX, NS, PTR or TXT", typ)
}
