package plugins_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestParsePlugins(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"parse_records_with_regex", `SELECT * FROM parse_records_with_regex(accessor="data", file="id=C.1a id=C.2b x", regex="id=(?P<ClientId>C\\.[0-9a-z]+)")`,
			`[{"ClientId":"C.1a"},{"ClientId":"C.2b"}]`, ""},
		{"parse_records_with_regex records", "SELECT Record FROM parse_records_with_regex(accessor='data', file='Package: a\nVersion: 1\n\nPackage: b\n\n', regex='(?sm)^(?P<Record>Package:.+?)\\n\\n')",
			`[{"Record":"Package: a\nVersion: 1"},{"Record":"Package: b"}]`, ""},
		{"parse_records_with_regex several regexes and optional groups", `SELECT * FROM parse_records_with_regex(accessor="data", file="a=1 b+=2", regex=["(?P<Key>[a-z])(?P<Op>\\+)?=(?P<Value>[0-9])", "(?P<Digit>2)"])`,
			`[{"Key":"a","Op":"","Value":"1"},{"Key":"b","Op":"+","Value":"2"},{"Digit":"2"}]`, ""},
		{"parse_records_with_regex of a host file needs FILESYSTEM_READ", `SELECT * FROM parse_records_with_regex(file="/etc/passwd", regex="(?P<X>.)")`, `[]`, `parse_records_with_regex: permission denied: this session lacks FILESYSTEM_READ`},
		{"parse_records_with_regex bad regex", `SELECT * FROM parse_records_with_regex(accessor="data", file="x", regex="(")`, `[]`, "parse_records_with_regex: error parsing regexp"},
		{"parse_json_array rows", `SELECT * FROM parse_json_array(data='[{"name": "a", "id": 1}, 7]')`, `[{"name":"a","id":1},{"_value":7}]`, ""},
		{"parse_jsonl without final newline", `SELECT * FROM parse_jsonl(accessor="data", filename='{"Foo":"First"}\n{"Foo":"Second"}')`, `[{"Foo":"First"},{"Foo":"Second"}]`, ""},
		{"parse_jsonl skips empty and corrupt lines", `SELECT * FROM parse_jsonl(accessor="data", filename='{"Foo":"First}\n\n{"Foo":"Second"}\n{"Foo":')`, `[{"Foo":"Second"}]`, ""},
		{"parse_jsonl non-dict lines", `SELECT * FROM parse_jsonl(accessor="data", filename='1\ntrue\n[1,2,3]\n{"Foo":"First"}\n')`, `[{"_value":1},{"_value":true},{"_value":[1,2,3]},{"Foo":"First"}]`, ""},
	})
}

func TestSwitch(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"first query with rows wins", `SELECT * FROM switch(a={SELECT 1 AS X FROM scope() WHERE FALSE}, b={SELECT 2 AS X FROM range(end=2)}, c={SELECT 3 AS X FROM scope()})`,
			`[{"X":2},{"X":2}]`, ""},
		{"later queries do not run", `SELECT * FROM switch(a={SELECT 1 AS X FROM scope()}, b={SELECT parse_json_array(data='not json') AS X FROM scope()})`, `[{"X":1}]`, ""},
		{"none has rows", `SELECT * FROM switch(a={SELECT 1 FROM scope() WHERE FALSE})`, `[]`, ""},
	})
}
