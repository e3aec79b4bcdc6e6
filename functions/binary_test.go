package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// binProfile exercises every supported type; binData is laid out for it:
// "MAGC", Count=3, Flags=5, Kind=2, three big-endian uint16, "Hi" in
// UTF-16 with its terminator, a FILETIME, then the Tail struct and a byte.
const binProfile = `'''[
  # a comment, and trailing commas, as Velociraptor's profiles have
  ["Header", 0, [
    ["Magic", 0, "String", {"length": 4}],
    ["Count", 4, "uint16"],
    ["Flags", 6, "Flags", {"type": "uint8", "bitmap": {"A": 0, "B": 1, "C": 2}}],
    ["Kind", 7, "Enumeration", {"type": "uint8", "choices": {"1": "One", "2": "Two"}}],
    ["Items", 8, "Array", {"type": "uint16b", "count": "x=>x.Count"}],
    ["Name", "x=>8 + x.Count * 2", "String", {"encoding": "utf16"}],
    ["Twice", 0, "Value", {"value": "x=>x.Count * 2"}],
    ["Modified", 20, "WinFileTime"],
    ["High", 6, "BitField", {"type": "uint8", "start_bit": 1, "end_bit": 3}],
    ["Tail", 28, "Union", {"selector": "x=>x.Kind", "choices": {"Two": "Tail"}}],
    ["AfterTail", "x=>x.Tail.EndOf", "uint8"],
    ["Past", 40, "uint32"],
  ]],
  ["Tail", 2, [["V", 0, "uint16"]]],
]'''`

const binData = `unhex(string="4d4147430300050200010002000348006900000080c04858283dda01efbe07")`

func TestParseBinary(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"every type", `SELECT parse_binary(accessor="data", filename=` + binData + `, profile=` + binProfile + `, struct="Header") AS H FROM scope()`,
			`[{"H":{"Magic":"MAGC","Count":3,"Flags":["A","C"],"Kind":"Two","Items":[1,2,3],"Name":"Hi","Twice":6,"Modified":"2024-01-02T03:04:05Z","High":2,"Tail":{"V":48879},"AfterTail":7,"Past":null}}]`, ""},
		{"struct members", `LET H <= parse_binary(accessor="data", filename=` + binData + `, profile=` + binProfile + `, struct="Header") SELECT H.Tail.StartOf AS s, H.Tail.EndOf AS e, H.Tail.SizeOf AS n, H.SizeOf AS size FROM scope()`,
			`[{"s":28,"e":30,"n":2,"size":44}]`, ""},
		{"offset", `SELECT parse_binary(accessor="data", filename=` + binData + `, profile=` + binProfile + `, struct="Tail", offset=28).V AS v FROM scope()`, `[{"v":48879}]`, ""},
		{"a repeated choice keeps the last", `SELECT parse_binary(accessor="data", filename=unhex(string="01"), profile='[["A", 0, [["K", 0, "Enumeration", {"type": "uint8", "choices": {"1": "Old", "1": "New"}}]]]]', struct="A").K AS k FROM scope()`, `[{"k":"New"}]`, ""},
		{"unknown struct", `SELECT parse_binary(accessor="data", filename="x", profile="[]", struct="Nope") AS h FROM scope()`, `[{"h":null}]`, "parse_binary: no struct Nope in the profile"},
		{"bad profile", `SELECT parse_binary(accessor="data", filename="x", profile="{a: 1}", struct="A") AS h FROM scope()`, `[{"h":null}]`, "parse_binary: profile: want a list of [name, size, fields]"},
		{"unknown type", `SELECT parse_binary(accessor="data", filename="x", profile='[["A", 0, [["F", 0, "Pointer"]]]]', struct="A") AS h FROM scope()`, `[{"h":{"F":null}}]`, "parse_binary: unknown type Pointer"},
		{"self-nesting struct ends", `SELECT parse_binary(accessor="data", filename="xx", profile='[["A", 0, [["F", 0, "A"]]]]', struct="A") AS h FROM scope()`, `[{"h":null}]`, "parse_binary: structs nest deeper than 50"},
		{"huge count is bounded", `SELECT len(list=parse_binary(accessor="data", filename="abcd", profile='[["A", 0, [["F", 0, "Array", {"type": "uint8", "count": 1000000000}]]]]', struct="A").F) AS n FROM scope()`, `[{"n":4}]`, ""},
	})
}
