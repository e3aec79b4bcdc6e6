package functions

import (
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/vqlq/vqlq/vql"
)

// GeoIP looks an address up in a MaxMind database. Enrichment artifacts
// call it once per row (Server.Enrichment.GeoIPISP calls it four times a
// row), so the opened database is kept and shared until its file changes.
var GeoIP = needs(fn("geoip", "Look up an IP address in a MaxMind GeoIP database (.mmdb); returns the address's record as a dict, NULL when the database has none.",
	[]vql.ArgSpec{
		arg("ip", vql.TypeString, true, "IP address to look up."),
		arg("db", vql.TypeString, true, "Path to the MaxMind GeoIP database on this host."),
	}, func(c call) any {
		ipText, path := c.args.String("ip", ""), c.args.String("db", "")
		if c.args.Failed() {
			return nil
		}
		if path == "" {
			c.scope.Errorf("geoip: db: a path to a MaxMind database is required")
			return nil
		}
		ip, err := netip.ParseAddr(strings.TrimSpace(ipText))
		if err != nil {
			c.scope.Errorf("geoip: ip: %q is not an IP address", ipText)
			return nil
		}
		db, err := geoipDBs.open(path)
		if err != nil {
			c.scope.Errorf("geoip: db: %v", err)
			return nil
		}
		res := db.Lookup(ip.Unmap())
		if !res.Found() {
			if err := res.Err(); err != nil {
				c.scope.Errorf("geoip: %s: %v", path, err)
			}
			return nil
		}
		var record any
		if err := res.Decode(&record); err != nil {
			c.scope.Errorf("geoip: %s: %v", path, err)
			return nil
		}
		return geoipValue(record)
	}), vql.PermFilesystemRead)

// geoipCache keeps one reader per database file. A reader is replaced
// when the file's size or modification time changes (a monthly database
// update) and the old one is left to the garbage collector rather than
// closed, since a query may still be reading it.
type geoipCache struct {
	mu  sync.Mutex
	dbs map[string]geoipEntry
}

type geoipEntry struct {
	reader *maxminddb.Reader
	size   int64
	mtime  time.Time
}

var geoipDBs = &geoipCache{dbs: map[string]geoipEntry{}}

func (g *geoipCache) open(path string) (*maxminddb.Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a MaxMind database", path)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.dbs[path]; ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.reader, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a MaxMind database: %v", path, err)
	}
	g.dbs[path] = geoipEntry{reader: r, size: st.Size(), mtime: st.ModTime()}
	return r, nil
}

// geoipValue turns a decoded record into VQL values: maps become dicts
// with sorted keys (the order Velociraptor's JSON of the same map has),
// unsigned and 128-bit integers become int64 where they fit.
func geoipValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := ordereddict.NewDict()
		for _, k := range keys {
			d.Set(k, geoipValue(x[k]))
		}
		return d
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = geoipValue(e)
		}
		return out
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return x
	case uint32:
		return int64(x)
	case uint16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case big.Int:
		return geoipValue(&x)
	}
	return v
}
