package artifacts

import (
	"fmt"
	"testing"

	"github.com/vqlq/vqlq/vql/value"
)

// TestParameterConvert: each parameter type turns its text into the value
// Velociraptor's sources expect, shown as Go type and JSON; bad text is
// refused with a message saying what is wrong.
func TestParameterConvert(t *testing.T) {
	choices := []string{"Fast", "Slow"}
	tests := []struct {
		name string
		p    Parameter
		text string
		want string // "%T JSON", or "error: message"
	}{
		{"no type is text", Parameter{}, " 5 ", `string " 5 "`},
		{"string", Parameter{Type: "string"}, "x", `string "x"`},
		{"hidden", Parameter{Type: "hidden"}, "x", `string "x"`},
		{"upload", Parameter{Type: "upload"}, "file", `string "file"`},
		{"unknown type is text", Parameter{Type: "yara"}, "rule x {}", `string "rule x {}"`},
		{"int", Parameter{Type: "int"}, " 42 ", "int64 42"},
		{"int64 hex", Parameter{Type: "int64"}, "0x10", "int64 16"},
		{"int empty is 0", Parameter{Type: "int"}, "", "int64 0"},
		{"int past int64", Parameter{Type: "int"}, "18446744073709551615", "uint64 18446744073709551615"},
		{"int refused", Parameter{Type: "int"}, "ten", `error: "ten" is not an integer`},
		{"float", Parameter{Type: "float"}, "1.5", "float64 1.5"},
		{"bool Y", Parameter{Type: "bool"}, "Y", "bool true"},
		{"bool true", Parameter{Type: "bool"}, "true", "bool true"},
		{"bool TRUE", Parameter{Type: "bool"}, "TRUE", "bool true"},
		{"bool yes", Parameter{Type: "bool"}, "yes", "bool true"},
		{"bool N", Parameter{Type: "bool"}, "N", "bool false"},
		{"bool empty", Parameter{Type: "bool"}, "", "bool false"},
		{"bool anything else", Parameter{Type: "bool"}, "maybe", "bool false"},
		{"timestamp RFC 3339", Parameter{Type: "timestamp"}, "2024-08-12T02:16:25Z", `time.Time "2024-08-12T02:16:25Z"`},
		{"timestamp date", Parameter{Type: "timestamp"}, "2022-01-01", `time.Time "2022-01-01T00:00:00Z"`},
		{"timestamp epoch", Parameter{Type: "timestamp"}, "1723428985", `time.Time "2024-08-12T02:16:25Z"`},
		{"timestamp empty", Parameter{Type: "timestamp"}, "", "<nil> null"},
		{"timestamp refused", Parameter{Type: "timestamp"}, "soon", `error: cannot read "soon" as a time (use an epoch or RFC 3339)`},
		{"csv", Parameter{Type: "csv"}, "Glob,Size\nC:/Windows/**,10\n/tmp/*,\"1,5\"\n",
			`[]interface {} [{"Glob":"C:/Windows/**","Size":"10"},{"Glob":"/tmp/*","Size":"1,5"}]`},
		{"csv short row", Parameter{Type: "csv"}, "A,B\n1\n", `[]interface {} [{"A":"1","B":""}]`},
		{"csv header only", Parameter{Type: "csv"}, "A,B\n", `[]interface {} []`},
		{"csv empty", Parameter{Type: "csv"}, "", `[]interface {} []`},
		{"artifactset", Parameter{Type: "artifactset"}, "Artifact\nServer.Audit.Logs\n", `[]interface {} [{"Artifact":"Server.Audit.Logs"}]`},
		{"json", Parameter{Type: "json"}, `{"b":1,"a":[true]}`, `*ordereddict.Dict {"b":1,"a":[true]}`},
		{"json empty", Parameter{Type: "json"}, "", "<nil> null"},
		{"json refused", Parameter{Type: "json"}, "{", "error"},
		{"json_array", Parameter{Type: "json_array"}, "[2,3]", "[]interface {} [2,3]"},
		{"json_array empty", Parameter{Type: "json_array"}, "", "[]interface {} []"},
		{"json_array not a list", Parameter{Type: "json_array"}, `{"a":1}`, "error: expected a JSON list, not dict"},
		{"yaml keeps order", Parameter{Type: "yaml"}, "b: 1\na: [x, 2]\n", `*ordereddict.Dict {"b":1,"a":["x",2]}`},
		{"yaml refused", Parameter{Type: "yaml"}, "a: [", "error: invalid YAML: yaml: line 1: did not find expected node content"},
		{"regex", Parameter{Type: "regex"}, "^a.+b$", `string "^a.+b$"`},
		{"regex refused", Parameter{Type: "regex"}, "a(", "error: invalid regex: error parsing regexp: missing closing ): `a(`"},
		{"choices", Parameter{Type: "choices", Choices: choices}, "Slow", `string "Slow"`},
		{"choices refused", Parameter{Type: "choices", Choices: choices}, "Medium", `error: "Medium" is not one of the choices (Fast, Slow)`},
		{"choices are exact", Parameter{Type: "choices", Choices: choices}, "fast", `error: "fast" is not one of the choices (Fast, Slow)`},
		{"multichoice", Parameter{Type: "multichoice", Choices: choices}, `["Fast","Slow"]`, `[]interface {} ["Fast","Slow"]`},
		{"multichoice refused", Parameter{Type: "multichoice", Choices: choices}, `["Fast","Other"]`, "error: Other is not one of the choices (Fast, Slow)"},
		{"validating_regex", Parameter{ValidatingRegex: "^[a-z]+$"}, "abc", `string "abc"`},
		{"validating_regex refused", Parameter{Type: "int", ValidatingRegex: "^[0-9]{2}$"}, "123", `error: "123" does not match ^[0-9]{2}$`},
	}
	for _, tt := range tests {
		v, err := tt.p.Convert(tt.text)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
			if tt.want == "error" {
				got = "error"
			}
		} else {
			b, jerr := value.EncodeJSON(v)
			if jerr != nil {
				t.Fatalf("%s: %v", tt.name, jerr)
			}
			got = fmt.Sprintf("%T %s", v, b)
		}
		if got != tt.want {
			t.Errorf("%s: Convert(%q) = %s, want %s", tt.name, tt.text, got, tt.want)
		}
	}
}

// BenchmarkParameterConvertCSV: a csv parameter is converted each time an
// artifact's source runs.
func BenchmarkParameterConvertCSV(b *testing.B) {
	p := Parameter{Type: "csv"}
	text := "Glob,Size\nC:/Windows/**,10\n/tmp/*,20\n/var/log/**,30\n"
	for b.Loop() {
		if _, err := p.Convert(text); err != nil {
			b.Fatal(err)
		}
	}
}
