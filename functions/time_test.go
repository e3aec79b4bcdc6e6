package functions_test

import (
	"context"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// TestVelociraptorSemantics runs, as VQL, what Velociraptor's artifacts
// rely on beyond vfilter's core: each query's row is compared whole.
func TestVelociraptorSemantics(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"dict + dict merges", "SELECT dict(a=1) + dict(b=2) AS d, dict(a=1, b=1) + dict(b=2) AS o FROM scope()",
			`[{"d":{"a":1,"b":2},"o":{"a":1,"b":2}}]`, ""},
		{"string * int repeats", "SELECT 'ab' * 3 AS s, 2 * 'x' AS t, 'ab' * 0 AS e FROM scope()",
			`[{"s":"ababab","t":"xx","e":""}]`, ""},
		{"list + list concatenates", "SELECT [1, 2] + [3] AS l, array(a=1, b=2) + array(a=3, b=4) AS a FROM scope()",
			`[{"l":[1,2,3],"a":[1,2,3,4]}]`, ""},
		{"array keeps nested lists", "SELECT array() AS e, array(b=1, a=2) AS o, array(a=[1,2], b=[3,4]) AS n FROM scope()",
			`[{"e":[],"o":[1,2],"n":[[1,2],[3,4]]}]`, ""},
		{"array splices _", "SELECT array(_=[1, 2]) AS a, array(_=[1, 2], extra=3) AS b, array(_=dict(Foo=1)) AS c FROM scope()",
			`[{"a":[1,2],"b":[1,2,3],"c":[{"Foo":1}]}]`, ""},
		{"array of queries", "SELECT array(_={ SELECT _value FROM range(end=2) }) AS a, array(a={ SELECT _value FROM range(end=2) }, c='s') AS b FROM scope()",
			`[{"a":[{"_value":0},{"_value":1}],"b":[[{"_value":0},{"_value":1}],"s"]}]`, ""},
		{"epoch 0 is 1970", "SELECT timestamp(epoch=0) AS t, timestamp(epoch=-86400) AS b FROM scope()",
			`[{"t":"1970-01-01T00:00:00Z","b":"1969-12-31T00:00:00Z"}]`, ""},
		{"epochs by size", "SELECT timestamp(epoch=1630414425) AS s, timestamp(epoch=1630414425000) AS ms, timestamp(epoch=1630414425000000) AS us FROM scope()",
			`[{"s":"2021-08-31T12:53:45Z","ms":"2021-08-31T12:53:45Z","us":"2021-08-31T12:53:45Z"}]`, ""},
		{"epoch as text", "SELECT timestamp(epoch='1723428985') AS t, timestamp(epoch='2024-08-12T02:16:25Z') AS r FROM scope()",
			`[{"t":"2024-08-12T02:16:25Z","r":"2024-08-12T02:16:25Z"}]`, ""},
		{"String is RFC 3339", "SELECT timestamp(epoch=1723428985).String AS s, format(format='The time is %s', args=timestamp(string='March 3 2019').String) AS f FROM scope()",
			`[{"s":"2024-08-12T02:16:25Z","f":"The time is 2019-03-03T00:00:00Z"}]`, ""},
		{"strings Velociraptor reads", "SELECT timestamp(string='March 3 2019') AS a, timestamp(string='07/25/2019 5:30 PM') AS b, timestamp(string='Mon, 02 Jan 2006 15:04:05 GMT') AS c, timestamp(string='2006-01-02 15:04:05') AS d, timestamp(string='2021-10-01T10:53:32+02:00') AS e FROM scope()",
			`[{"a":"2019-03-03T00:00:00Z","b":"2019-07-25T17:30:00Z","c":"2006-01-02T15:04:05Z","d":"2006-01-02T15:04:05Z","e":"2021-10-01T08:53:32Z"}]`, ""},
		{"format is a Go layout", `SELECT timestamp(string="8/30/2021 6:01:28 PM", format="1/2/2006 3:04:05 PM") AS t FROM scope()`,
			`[{"t":"2021-08-30T18:01:28Z"}]`, ""},
		{"PARSE_TZ is the zone of zoneless strings", `LET PARSE_TZ <= "Australia/Brisbane" SELECT timestamp(string='March 3 2019') AS a, timestamp(string="2021-10-01T10:53:32") AS b, timestamp(string="2021-10-01T10:53:32Z") AS c, timestamp(string="8/30/2021 6:01:28 PM", format="1/2/2006 3:04:05 PM") AS d, timestamp(epoch=1630414425) AS e FROM scope()`,
			`[{"a":"2019-03-02T14:00:00Z","b":"2021-10-01T00:53:32Z","c":"2021-10-01T10:53:32Z","d":"2021-08-30T08:01:28Z","e":"2021-08-31T12:53:45Z"}]`, ""},
		{"timezone overrides PARSE_TZ", `LET PARSE_TZ <= "Australia/Brisbane" SELECT timestamp(string='2019-03-03 00:00:00', timezone='Europe/Berlin') AS t FROM scope()`,
			`[{"t":"2019-03-02T23:00:00Z"}]`, ""},
		{"cocoa, HFS+ and FILETIME", "SELECT timestamp(cocoatime=0) AS z, timestamp(cocoatime=1) AS c, timestamp(mactime=2082844800) AS m, timestamp(winfiletime=116444736000000000) AS w FROM scope()",
			`[{"z":null,"c":"2001-01-01T00:00:01Z","m":"1970-01-01T00:00:00Z","w":"1970-01-01T00:00:00Z"}]`, ""},
		{"timestamp_format", "SELECT timestamp_format(time=timestamp(epoch=1723428985)) AS d, timestamp_format(time=1723428985, format='2006-01-02 15:04') AS l, timestamp_format(time='2024-08-12T02:16:25Z', format='RFC1123') AS n FROM scope()",
			`[{"d":"2024-08-12T02:16:25Z","l":"2024-08-12 02:16","n":"Mon, 12 Aug 2024 02:16:25 UTC"}]`, ""},
		{"timestamp_format in TZ", `LET TZ <= "Europe/Berlin" SELECT timestamp_format(time=timestamp(epoch=1723428985), format='RFC3339') AS t FROM scope()`,
			`[{"t":"2024-08-12T04:16:25+02:00"}]`, ""},
		{"=~ on a dict matches its text", "SELECT dict(x='Hello', y='World') =~ 'he' AS a, dict(Pid=4) =~ 'pid.:4' AS b, dict(x=1) =~ 'zzz' AS c FROM scope()",
			`[{"a":true,"b":true,"c":false}]`, ""},
		{"=~ on a timestamp matches its text", "SELECT timestamp(epoch=1723428985) =~ '^2024-08-12T02' AS a, timestamp(epoch=1723428985) =~ '2023' AS b FROM scope()",
			`[{"a":true,"b":false}]`, ""},
		{"times compare with text on either side", `SELECT timestamp(epoch=1723428985) < "2024-08-12T02:15:25.176Z" AS a, "2024-08-12T02:15:25.176Z" < timestamp(epoch=1723428985) AS b, timestamp(epoch=1723428985) > "2024-08-12T02:15:25.176Z" AS c, "2024-08-12T02:15:25.176Z" > timestamp(epoch=1723428985) AS d, timestamp(string='March 3 2019') < '2021-10-01' AS e FROM scope()`,
			`[{"a":false,"b":true,"c":true,"d":false,"e":true}]`, ""},
		{"times compare with numbers", "SELECT timestamp(epoch=1723428985) < 1118628985 AS a, 1118628985 < timestamp(epoch=1723428985) AS b, timestamp(epoch=1723428985) > 1118628985.0 AS c FROM scope()",
			`[{"a":false,"b":true,"c":true}]`, ""},
	})
}

// TestTimestampRefusals: what timestamp() and timestamp_format() cannot
// read is NULL with a message naming the problem.
func TestTimestampRefusals(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"words", "SELECT timestamp(string='soon') AS t FROM scope()", `[{"t":null}]`, `cannot read "soon" as a time`},
		{"not matching the format", "SELECT timestamp(string='2021-08-30', format='1/2/2006') AS t FROM scope()", `[{"t":null}]`, `"2021-08-30" does not match format "1/2/2006"`},
		{"an unknown zone", "SELECT timestamp(string='2021-08-30', timezone='Mars/Olympus') AS t FROM scope()", `[{"t":null}]`, `timezone names no time zone "Mars/Olympus"`},
		{"an unknown PARSE_TZ", "LET PARSE_TZ = 'Nowhere' SELECT timestamp(string='2021-08-30') AS t FROM scope()", `[{"t":null}]`, `PARSE_TZ names no time zone "Nowhere"`},
		{"an unknown TZ", "LET TZ = 'Nowhere' SELECT timestamp_format(time=0) AS t FROM scope()", `[{"t":null}]`, `TZ names no time zone "Nowhere"`},
		{"a dict as epoch", "SELECT timestamp(epoch=dict(a=1)) AS t FROM scope()", `[{"t":null}]`, "Field epoch should be a number not dict"},
		{"a list as time", "SELECT timestamp_format(time=[1, 2]) AS t FROM scope()", `[{"t":null}]`, "cannot read a list as a time"},
	})
}

// BenchmarkTimeAgainstText is the per-row cost of a WHERE comparing a
// timestamp column with a date written as text.
func BenchmarkTimeAgainstText(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"RFC3339", "2024-08-12T02:15:25Z"},
		{"guessed", "March 3 2019"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			prog, err := parser.Parse("SELECT * FROM range(end=1000) WHERE timestamp(epoch=1723428985) > '"+bc.text+"'", "")
			if err != nil {
				b.Fatal(err)
			}
			e := vqlq.NewEngine()
			for b.Loop() {
				s := e.NewSession(vql.SessionOptions{})
				for range s.Run(context.Background(), prog) {
				}
			}
		})
	}
}
