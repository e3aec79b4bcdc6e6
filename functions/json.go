package functions

import (
	"strings"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

func jsonMarshal(v any) ([]byte, error) { return value.EncodeJSON(v) }

// ParseJSON parses JSON text; objects become ordered dicts (key order
// kept), numbers become ints where they are whole.
var ParseJSON = fn("parse_json", "Parse JSON text into dicts and lists (key order kept).",
	[]vql.ArgSpec{arg("data", vql.TypeString, true, "The JSON text.")},
	func(c call) any {
		s := c.args.String("data", "")
		if c.args.Failed() {
			return nil
		}
		v, err := value.DecodeJSON([]byte(s))
		if err != nil {
			c.scope.Errorf("parse_json: %v", err)
			return nil
		}
		return v
	})

// Serialize renders a value as JSON, JSON lines or YAML text.
var Serialize = fn("serialize", "The value as JSON text (format=json), one JSON object per line (format=jsonl) or a YAML document (format=yaml).",
	[]vql.ArgSpec{
		arg("item", vql.TypeAny, true, "The value to serialize."),
		arg("format", vql.TypeString, false, "json (default), jsonl or yaml."),
	}, func(c call) any {
		v := c.scope.Materialize(c.ctx, c.args.Value("item"))
		format := c.args.String("format", "json")
		if format == "yaml" {
			text, err := yamlText(v)
			if err != nil {
				c.scope.Errorf("serialize: %v", err)
				return nil
			}
			return text
		}
		if format == "jsonl" {
			if rows, ok := v.([]any); ok {
				var b strings.Builder
				for _, r := range rows {
					line, err := jsonMarshal(r)
					if err != nil {
						c.scope.Errorf("serialize: %v", err)
						return nil
					}
					b.Write(line)
					b.WriteByte('\n')
				}
				return b.String()
			}
		}
		out, err := jsonMarshal(v)
		if err != nil {
			c.scope.Errorf("serialize: %v", err)
			return nil
		}
		return string(out)
	})
