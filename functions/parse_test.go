package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestParse(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"parse_json_array of dicts", `SELECT parse_json_array(data='[{"foo": 1}, {"baz": 2}]') AS a, parse_json_array(data='["foo", "baz"]') AS b FROM scope()`,
			`[{"a":[{"foo":1},{"baz":2}],"b":["foo","baz"]}]`, ""},
		{"parse_json_array of an object", `SELECT parse_json_array(data='{"a": 1}') AS a FROM scope()`, `[{"a":null}]`, "parse_json_array: the data is a JSON dict, not an array"},
		{"parse_json_array of garbage", `SELECT parse_json_array(data='[1,') AS a FROM scope()`, `[{"a":null}]`, "parse_json_array: "},
		{"parse_yaml keeps order and types", "SELECT parse_yaml(filename='name: Test\nlist:\n- One\n- key1: value1\n  key2: value2\n-\n  - One.One\n  - 2\n  - 2.1\n  - true\n  - ~\nz: 0x10\n', accessor='data') AS y FROM scope()",
			`[{"y":{"name":"Test","list":["One",{"key1":"value1","key2":"value2"},["One.One",2,2.1,true,null]],"z":16}}]`, ""},
		{"parse_yaml aliases", "SELECT parse_yaml(filename='a: &x [1, 2]\nb: *x\n', accessor='data') AS y FROM scope()", `[{"y":{"a":[1,2],"b":[1,2]}}]`, ""},
		{"parse_yaml alias bomb", "SELECT parse_yaml(filename='a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n', accessor='data') AS y FROM scope()", `[{"y":null}]`, "parse_yaml: the document expands to more than 1000000 values"},
		{"parse_yaml bad yaml", "SELECT parse_yaml(filename='a: [1', accessor='data') AS y FROM scope()", `[{"y":null}]`, "parse_yaml: yaml: line 1"},
		{"parse_yaml of a host file needs FILESYSTEM_READ", "SELECT parse_yaml(filename='/etc/hosts') AS y FROM scope()", `[{"y":null}]`, `parse_yaml: permission denied: this session lacks FILESYSTEM_READ`},
		{"parse_xml", `SELECT parse_xml(accessor="data", file='<?xml version="1.0"?><Task version="1.2"><Actions><Exec><Command>a.exe</Command></Exec><Exec><Command>b.exe</Command></Exec></Actions><Note lang="en">hi</Note><Empty/></Task>') AS x FROM scope()`,
			`[{"x":{"Task":{"-version":"1.2","Actions":{"Exec":[{"Command":"a.exe"},{"Command":"b.exe"}]},"Note":{"-lang":"en","#text":"hi"},"Empty":""}}}]`, ""},
		{"parse_xml member access", `SELECT parse_xml(accessor="data", file='<a><b>1</b></a>').a.b AS b FROM scope()`, `[{"b":"1"}]`, ""},
		{"parse_xml unclosed", `SELECT parse_xml(accessor="data", file='<a><b>') AS x FROM scope()`, `[{"x":null}]`, "parse_xml: element b: XML syntax error"},
		{"parse_xml with no element", `SELECT parse_xml(accessor="data", file='just text') AS x FROM scope()`, `[{"x":null}]`, "parse_xml: no root element"},
	})
}
