package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestEncoding(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"base64 round trip", `SELECT base64encode(string="hello") AS e, base64decode(string="aGVsbG8=") AS d, base64decode(string="aGVsbG8") AS raw, base64decode(string="-_8") AS url FROM scope()`,
			`[{"e":"aGVsbG8=","d":"hello","raw":"hello","url":"\ufffd\ufffd"}]`, ""},
		{"base64 garbage", `SELECT base64decode(string="!!!") AS d FROM scope()`, `[{"d":null}]`, "base64decode: the string is not base64"},
		{"unhex", `SELECT unhex(string="414243") AS a, unhex(string="2y") AS b, unhex(string="41zz") AS c FROM scope()`, `[{"a":"ABC","b":"","c":"A"}]`, ""},
		{"xor", `SELECT xor(string=xor(string="secret", key="k3y"), key="k3y") AS round, encode(string=xor(string="AB", key=" "), type="hex") AS x FROM scope()`, `[{"round":"secret","x":"6162"}]`, ""},
		{"rot13", `SELECT rot13(string="Hello, World!") AS r FROM scope()`, `[{"r":"Uryyb, Jbeyq!"}]`, ""},
		{"utf16", `SELECT utf16(string=unhex(string="480069000000580058")) AS s, encode(string=utf16_encode(string="Hi"), type="hex") AS e, utf16(string=utf16_encode(string="héllo✓")) AS round FROM scope()`,
			`[{"s":"Hi","e":"48006900","round":"héllo✓"}]`, ""},
		{"gzip round trip", `SELECT gunzip(string=gzip(string="abcabcabc")) AS g FROM scope()`, `[{"g":"abcabcabc"}]`, ""},
		{"gunzip garbage", `SELECT gunzip(string="plain") AS g FROM scope()`, `[{"g":null}]`, "gunzip: unexpected EOF"},
		{"serialize yaml keeps key order, lists at their key's column", `SELECT serialize(item=dict(z=1, a=[1, "2", dict(k="v", j=NULL)], b=TRUE, f=1.5), format="yaml") AS y FROM scope()`,
			`[{"y":"z: 1\na:\n- 1\n- \"2\"\n- k: v\n  j: null\nb: true\nf: 1.5\n"}]`, ""},
		{"string required", `SELECT rot13() AS r FROM scope()`, `[{"r":null}]`, "rot13: Field string is required"},
	})
}

func TestText(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"strip whitespace", `SELECT strip(string="  x y \n") AS s FROM scope()`, `[{"s":"x y"}]`, ""},
		{"strip prefix and suffix", `SELECT strip(string="C:\\Windows", prefix="C:") AS p, strip(string="a.exe", suffix=".exe") AS s, strip(string=" a ", prefix="x") AS n FROM scope()`, `[{"p":"\\Windows","s":"a","n":" a "}]`, ""},
		{"substr", `SELECT substr(str="hello", start=1, end=3) AS a, substr(str="hello", start=3) AS b, substr(str="héllo", end=2) AS c, substr(str="abc", start=5) AS d, substr(str="abc", start=2, end=1) AS e FROM scope()`,
			`[{"a":"el","b":"lo","c":"hé","d":"","e":""}]`, ""},
		{"commandline_split windows", `SELECT commandline_split(command='"C:\\Program Files\\x.exe" -a "b c" d\\e "q\\"uote"') AS a FROM scope()`,
			`[{"a":["C:\\Program Files\\x.exe","-a","b c","d\\e","q\"uote"]}]`, ""},
		{"commandline_split empty quotes are an argument", `SELECT commandline_split(command='a "" b') AS a FROM scope()`, `[{"a":["a","","b"]}]`, ""},
		{"commandline_split bash", `SELECT commandline_split(command="ls -l 'my file' \"a \\\"b\\\"\" c\\ d", bash_style=TRUE) AS a FROM scope()`,
			`[{"a":["ls","-l","my file","a \"b\"","c d"]}]`, ""},
		{"parse_string_with_regex", `SELECT parse_string_with_regex(string="user=bob id=7", regex=["user=(?P<User>\\w+)", "id=(?P<Id>\\d+)", "gid=(?P<Gid>\\d+)"]) AS d FROM scope()`,
			`[{"d":{"User":"bob","Id":"7"}}]`, ""},
		{"parse_string_with_regex one regex", `SELECT parse_string_with_regex(string="ab12", regex="(?P<L>[a-z]+)(?P<N>[0-9]+)?") AS d FROM scope()`,
			`[{"d":{"L":"ab","N":"12"}}]`, ""},
		{"parse_string_with_regex unnamed groups", "LET D = \"name: Custom.X\ntype: SERVER\n\"\nSELECT parse_string_with_regex(string=D, regex='''^name:\\s*(.+)''').g1 AS n, parse_string_with_regex(string=\"a=1\", regex='''(\\w)=(?P<V>\\d)''') AS d FROM scope()",
			`[{"n":"Custom.X","d":{"g1":"a","V":"1"}}]`, ""},
		{"parse_string_with_regex bad regex", `SELECT parse_string_with_regex(string="x", regex="(") AS d FROM scope()`, `[{"d":null}]`, "parse_string_with_regex: "},
		{"regex_transform", `SELECT regex_transform(source="The quick brown fox", map=dict(quick="slow", ` + "`brown (fox)`" + `="red $1")) AS s FROM scope()`,
			`[{"s":"The slow red fox"}]`, ""},
		{"regex_replace with a lambda", `LET URLEscaped = "my%2Fcool%2Bescaped%2y6string%2Cwith%2cmalform" SELECT regex_replace(source=URLEscaped, replace_lambda="x=>unhex(string=x[1:]) || x", re="%..") AS s FROM scope()`,
			`[{"s":"my/cool+escaped%2y6string,with,malform"}]`, ""},
		{"regex_replace bad lambda", `SELECT regex_replace(source="a", re="a", replace_lambda="no arrow") AS s FROM scope()`, `[{"s":null}]`, "want params => expression"},
	})
}

func TestNumbers(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"atoi", `SELECT atoi(string="42") AS a, atoi(string=" -7 ") AS b, atoi(string="0x10") AS c, atoi(string="010") AS d, atoi(string="x") AS e, atoi(string=5) AS f FROM scope()`,
			`[{"a":42,"b":-7,"c":16,"d":10,"e":null,"f":5}]`, ""},
		{"parse_float", `SELECT parse_float(string="1.5") AS a, parse_float(string="1e3") AS b, parse_float(string="nope") AS c, parse_float(string=2) AS d FROM scope()`,
			`[{"a":1.5,"b":1000,"c":null,"d":2}]`, ""},
		{"entropy", `SELECT entropy(string="") AS a, entropy(string="aaaa") AS b, entropy(string="abab") AS c, entropy(string="abcd") AS d FROM scope()`,
			`[{"a":0,"b":0,"c":1,"d":2}]`, ""},
		{"rand stays in range", `LET r <= SELECT rand(range=3) AS v FROM range(end=200) SELECT len(list=r) AS n, len(list=filter(list=r.v, condition="x=>x<0 OR x>=3")) AS bad FROM scope()`, `[{"n":200,"bad":0}]`, ""},
		{"humanize", `SELECT humanize(bytes=0) AS a, humanize(bytes=1023) AS b, humanize(bytes=1234) AS c, humanize(bytes=82854982) AS d, humanize(bytes=2048, iec=TRUE) AS e, humanize(bytes=-1500) AS f FROM scope()`,
			`[{"a":"0 B","b":"1.0 kB","c":"1.2 kB","d":"83 MB","e":"2.0 KiB","f":"-1.5 kB"}]`, ""},
	})
}
