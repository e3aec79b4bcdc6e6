package functions_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// writeISPDB writes a GeoIP2-ISP-shaped database: two networks with the
// fields MaxMind's ISP database has.
func writeISPDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-ISP", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []struct {
		cidr string
		rec  mmdbtype.Map
	}{
		{"81.2.69.0/24", mmdbtype.Map{
			"isp": mmdbtype.String("Andrews & Arnold Ltd"), "organization": mmdbtype.String("STONEHOUSE office network"),
			"autonomous_system_number": mmdbtype.Uint32(20712), "autonomous_system_organization": mmdbtype.String("Andrews & Arnold Ltd"),
		}},
		{"2001:db8::/32", mmdbtype.Map{
			"isp": mmdbtype.String("Documentation"), "autonomous_system_number": mmdbtype.Uint32(64496),
			"ranges": mmdbtype.Slice{mmdbtype.Uint16(1), mmdbtype.Float64(2.5)},
			"big":    mmdbtype.Uint64(1 << 40),
		}},
	} {
		_, network, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, n.rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "GeoIP2-ISP.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGeoIP(t *testing.T) {
	db := writeISPDB(t)
	notDB := filepath.Join(t.TempDir(), "not.mmdb")
	if err := os.WriteFile(notDB, []byte("plain text, no metadata marker"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := func(s string) string { return strings.ReplaceAll(s, "DB", `"`+filepath.ToSlash(db)+`"`) }
	reader := vql.SessionOptions{Identity: vql.Identity{Principal: "analyst", Granted: []vql.Permission{vql.PermFilesystemRead}}}
	vqltest.RunWith(t, reader, []vqltest.Case{
		{"record as a dict, keys sorted", q(`SELECT geoip(db=DB, ip="81.2.69.160") AS r FROM scope()`),
			`[{"r":{"autonomous_system_number":20712,"autonomous_system_organization":"Andrews & Arnold Ltd","isp":"Andrews & Arnold Ltd","organization":"STONEHOUSE office network"}}]`, ""},
		{"members as the artifact reads them", q(`LET ISP(IP) = geoip(db=DB, ip=IP).isp
LET ASN(IP) = geoip(db=DB, ip=IP).autonomous_system_number
SELECT ISP(IP=_value) AS ISP, ASN(IP=_value) AS ASN FROM foreach(row=["81.2.69.1", "2001:db8::1", "8.8.8.8"])`),
			`[{"ISP":"Andrews & Arnold Ltd","ASN":20712},{"ISP":"Documentation","ASN":64496},{"ISP":null,"ASN":null}]`, ""},
		{"IPv4 mapped in IPv6", q(`SELECT geoip(db=DB, ip="::ffff:81.2.69.5").isp AS isp FROM scope()`), `[{"isp":"Andrews & Arnold Ltd"}]`, ""},
		{"arrays and wide integers", q(`SELECT geoip(db=DB, ip="2001:db8:1::").ranges AS r, geoip(db=DB, ip="2001:db8:1::").big AS b FROM scope()`),
			`[{"r":[1,2.5],"b":1099511627776}]`, ""},
		{"address not in the database", q(`SELECT geoip(db=DB, ip="9.9.9.9") AS r FROM scope()`), `[{"r":null}]`, ""},
		{"bad ip", q(`SELECT geoip(db=DB, ip="300.1.1.1") AS r FROM scope()`), `[{"r":null}]`, `geoip: ip: "300.1.1.1" is not an IP address`},
		{"missing db file", `SELECT geoip(db="/nonexistent/GeoIP2-ISP.mmdb", ip="1.1.1.1") AS r FROM scope()`, `[{"r":null}]`, "geoip: db: stat /nonexistent/GeoIP2-ISP.mmdb"},
		{"not a database", `SELECT geoip(db="` + filepath.ToSlash(notDB) + `", ip="1.1.1.1") AS r FROM scope()`, `[{"r":null}]`, "not a MaxMind database"},
		{"empty db (unset server metadata)", `SELECT geoip(db=NULL, ip="1.1.1.1") AS r FROM scope()`, `[{"r":null}]`, "geoip: db"},
		{"ip missing", q(`SELECT geoip(db=DB) AS r FROM scope()`), `[{"r":null}]`, "ip"},
	})
	noRead := vql.SessionOptions{Identity: vql.Identity{Principal: "reader", Granted: []vql.Permission{vql.PermReadResults}}}
	vqltest.RunWith(t, noRead, []vqltest.Case{
		{"needs FILESYSTEM_READ", q(`SELECT geoip(db=DB, ip="81.2.69.160") AS r FROM scope()`), `[{"r":null}]`, "lacks FILESYSTEM_READ"},
	})
}

// TestGeoIPSeesANewDatabase: a database file replaced in place (the
// monthly update) is read again rather than served from the cache.
func TestGeoIPSeesANewDatabase(t *testing.T) {
	db := writeISPDB(t)
	reader := vql.SessionOptions{Identity: vql.Identity{Principal: "analyst", Granted: []vql.Permission{vql.PermFilesystemRead}}}
	query := `SELECT geoip(db="` + filepath.ToSlash(db) + `", ip="81.2.69.1").isp AS isp FROM scope()`
	if got, _ := vqltest.RowsWith(t, reader, query); got != `[{"isp":"Andrews & Arnold Ltd"}]` {
		t.Fatalf("before: %s", got)
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-ISP", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	_, network, _ := net.ParseCIDR("81.2.0.0/16")
	if err := tree.Insert(network, mmdbtype.Map{"isp": mmdbtype.String("Renumbered Networks Plc")}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := vqltest.RowsWith(t, reader, query); got != `[{"isp":"Renumbered Networks Plc"}]` {
		t.Fatalf("after: %s", got)
	}
}
