package functions

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// ParseJSON parses JSON text; objects become ordered dicts (key order
// kept), numbers become ints where they are whole.
var ParseJSON = fn("parse_json", "Parse JSON text into dicts and lists (key order kept).",
	[]vql.ArgSpec{arg("data", vql.TypeString, true, "The JSON text.")},
	func(c call) any {
		s := c.args.String("data", "")
		if c.args.Failed() {
			return nil
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		v, err := decodeJSON(dec)
		if err != nil {
			c.scope.Errorf("parse_json: %v", err)
			return nil
		}
		return v
	})

// decodeJSON reads one JSON value token by token so that objects keep
// their key order.
func decodeJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := ordereddict.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				d.Set(k.(string), v)
			}
			_, err := dec.Token()
			return d, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		return f, err
	}
	return tok, nil
}

// Serialize renders a value as JSON text.
var Serialize = fn("serialize", "The value as JSON text (format=json) or one JSON object per line (format=jsonl).",
	[]vql.ArgSpec{
		arg("item", vql.TypeAny, true, "The value to serialize."),
		arg("format", vql.TypeString, false, "json (default) or jsonl."),
	}, func(c call) any {
		v := c.scope.Materialize(c.ctx, c.args.Value("item"))
		format := c.args.String("format", "json")
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
