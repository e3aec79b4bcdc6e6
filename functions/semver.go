package functions

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/vql"
)

var semverRe = regexp.MustCompile(`^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$`)

// SemVersion is a parsed semantic version. VQL sees its fields as members
// (and as a dict's keys in JSON); it compares, on either side of =, <,
// >=…, with another version or with version text, by semantic version
// precedence, as Velociraptor's does: `semver(version=V) >= "2.5"`.
type SemVersion struct {
	Major, Minor, Patch int64
	Prerelease          string
	Version             string
}

// parseVersion reads a semantic version, accepting a leading v and
// missing minor or patch numbers ("1.1" is 1.1.0); nil when s is not one.
func parseVersion(s string) *SemVersion {
	m := semverRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil
	}
	part := func(t string) int64 {
		n, _ := strconv.ParseInt(t, 10, 64)
		return n
	}
	v := &SemVersion{Major: part(m[1]), Minor: part(m[2]), Patch: part(m[3]), Prerelease: m[4]}
	v.Version = strconv.FormatInt(v.Major, 10) + "." + strconv.FormatInt(v.Minor, 10) + "." + strconv.FormatInt(v.Patch, 10)
	if v.Prerelease != "" {
		v.Version += "-" + v.Prerelease
	}
	return v
}

// Compare orders v against another version or version text; anything
// else, or text that is no version, cannot be compared.
func (v *SemVersion) Compare(other any) (int, bool) {
	var w *SemVersion
	switch o := other.(type) {
	case *SemVersion:
		w = o
	case string:
		w = parseVersion(o)
	}
	if w == nil {
		return 0, false
	}
	for _, d := range [][2]int64{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if d[0] != d[1] {
			return cmp.Compare(d[0], d[1]), true
		}
	}
	return comparePrerelease(v.Prerelease, w.Prerelease), true
}

// comparePrerelease is semantic version precedence between pre-release
// texts: none is above any; otherwise dot-separated identifiers compare
// in turn, numbers numerically and below words, words as text, and a
// shorter list that is a prefix of the other is below it.
func comparePrerelease(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, xErr := strconv.ParseInt(as[i], 10, 64)
		y, yErr := strconv.ParseInt(bs[i], 10, 64)
		switch {
		case xErr == nil && yErr == nil:
			if x != y {
				return cmp.Compare(x, y)
			}
		case xErr == nil:
			return -1
		case yErr == nil:
			return 1
		default:
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(int64(len(as)), int64(len(bs)))
}

// Semver parses a semantic version (see SemVersion).
var Semver = fn("semver", "The parts of a semantic version {Major, Minor, Patch, Prerelease, Version}, which compares with version text; NULL when it is not one.",
	[]vql.ArgSpec{arg("version", vql.TypeString, true, "The version text (v1.2.3-rc1, 1.2, …).")},
	func(c call) any {
		s := c.args.String("version", "")
		if c.args.Failed() {
			return nil
		}
		if v := parseVersion(s); v != nil {
			return v
		}
		return nil
	})
