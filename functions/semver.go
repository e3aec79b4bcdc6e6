package functions

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

var semverRe = regexp.MustCompile(`^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$`)

// Semver parses a semantic version, accepting a leading v and missing
// minor or patch numbers ("1.1" is 1.1.0). Velociraptor's result also
// compares with < and = against version text; vqlq's value layer has no
// hook for that yet, so compare the Major, Minor and Patch members.
var Semver = fn("semver", "The parts of a semantic version {Major, Minor, Patch, Prerelease, Version}; NULL when it is not one.",
	[]vql.ArgSpec{arg("version", vql.TypeString, true, "The version text (v1.2.3-rc1, 1.2, …).")},
	func(c call) any {
		s := c.args.String("version", "")
		if c.args.Failed() {
			return nil
		}
		m := semverRe.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			return nil
		}
		part := func(t string) int64 {
			n, _ := strconv.ParseInt(t, 10, 64)
			return n
		}
		major, minor, patch := part(m[1]), part(m[2]), part(m[3])
		version := strconv.FormatInt(major, 10) + "." + strconv.FormatInt(minor, 10) + "." + strconv.FormatInt(patch, 10)
		if m[4] != "" {
			version += "-" + m[4]
		}
		return ordereddict.NewDict().Set("Major", major).Set("Minor", minor).Set("Patch", patch).
			Set("Prerelease", m[4]).Set("Version", version)
	})
