package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestNetwork(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"url built from parts", `SELECT url(scheme="http", host="www.google.com", query=dict(foo="bar")).String AS s, url(scheme="https", host="h", path="/a b", query=dict(x=[1, 2]), fragment="f") AS u FROM scope()`,
			`[{"s":"http://www.google.com?foo=bar","u":"https://h/a%20b?x=1&x=2#f"}]`, ""},
		{"url parsed", `LET U <= url(parse="https://user@example.com:8443/p/q?q=Hello&lang=fr&lang=de#top") SELECT U.Scheme AS s, U.Host AS h, U.Hostname AS hn, U.Port AS p, U.Path AS path, U.RawQuery AS rq, U.Query AS q, U.Fragment AS f, U.User AS user FROM scope()`,
			`[{"s":"https","h":"example.com:8443","hn":"example.com","p":"8443","path":"/p/q","rq":"q=Hello&lang=fr&lang=de","q":{"lang":["fr","de"],"q":"Hello"},"f":"top","user":"user"}]`, ""},
		{"url query merges with a dict", `SELECT url(parse="http://x/?q=Hello&lang=fr").Query + dict(lang="en") AS q FROM scope()`, `[{"q":{"q":"Hello","lang":"en"}}]`, ""},
		{"url bad", `SELECT url(parse="http://[::1") AS u FROM scope()`, `[{"u":null}]`, "url: parse"},
		{"ip from integers", `SELECT ip(netaddr4_le=16777343) AS le, ip(netaddr4_be=2130706433) AS be, ip(netaddr4_le=16777343).IsLoopback AS lo FROM scope()`,
			`[{"le":"127.0.0.1","be":"127.0.0.1","lo":true}]`, ""},
		{"ip parsed", `SELECT ip(parse="10.1.2.3").IsPrivate AS p, ip(parse="2001:db8::1") AS v6, ip(parse="2001:db8::1").Is6 AS is6, ip(parse="8.8.8.8").Is4 AS is4 FROM scope()`,
			`[{"p":true,"v6":"2001:db8::1","is6":true,"is4":true}]`, ""},
		{"ip bad", `SELECT ip(parse="300.1.1.1") AS a FROM scope()`, `[{"a":null}]`, "ip: ParseAddr"},
		{"cidr_contains", `SELECT cidr_contains(ip="192.168.1.7", ranges=["10.0.0.0/8", "192.168.0.0/16"]) AS a, cidr_contains(ip="8.8.8.8", ranges="10.0.0.0/8") AS b, cidr_contains(ip=ip(parse="::ffff:10.0.0.1"), ranges=["10.0.0.0/8"]) AS c FROM scope()`,
			`[{"a":true,"b":false,"c":true}]`, ""},
		{"cidr_contains bad range", `SELECT cidr_contains(ip="1.1.1.1", ranges=["1.1.1.1/99"]) AS a FROM scope()`, `[{"a":null}]`, `cidr_contains: range "1.1.1.1/99"`},
	})
}
