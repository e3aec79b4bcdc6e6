package functions

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"
	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/vql"
)

var accessorArg = arg("accessor", vql.TypeString, false, `How to read the file: file or auto (the default; a host file), zip, gzip, or data (the filename is the data itself), scope, pipe.`)

// ParseJSONArray parses a JSON array into a list.
var ParseJSONArray = fn("parse_json_array", "The list a JSON array holds (objects become dicts, key order kept).",
	[]vql.ArgSpec{arg("data", vql.TypeString, true, "The JSON text.")},
	func(c call) any {
		l, ok := plugins.DecodeJSONArray(c.scope, "parse_json_array", c.args)
		if !ok {
			return nil
		}
		return l
	})

// ParseYAML parses a YAML document; mappings become dicts in document
// order.
var ParseYAML = fn("parse_yaml", "The value a YAML document holds (mappings become dicts, key order kept).",
	[]vql.ArgSpec{arg("filename", vql.TypeString, true, "The YAML document (with accessor=\"data\")."), accessorArg},
	func(c call) any {
		b, ok := accessors.ReadArg(c.ctx, c.scope, c.args, "parse_yaml", "filename")
		if !ok {
			return nil
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			c.scope.Errorf("parse_yaml: %v", err)
			return nil
		}
		v, err := newYAMLConv(false).convert(&doc)
		if err != nil {
			c.scope.Errorf("parse_yaml: %v", err)
			return nil
		}
		return v
	})

// maxYAMLValues bounds what a YAML document expands to: aliases can make
// a small document stand for an exponential number of values.
const maxYAMLValues = 1_000_000

// yamlConv converts YAML nodes to VQL values, resolving aliases, within a
// budget of values and a depth. asMaps makes mappings Go maps in which a
// repeated key keeps its last value (for profiles) instead of dicts.
type yamlConv struct {
	left   int
	asMaps bool
}

func newYAMLConv(asMaps bool) *yamlConv { return &yamlConv{left: maxYAMLValues, asMaps: asMaps} }

// convert converts a document; it fails when the budget runs out.
func (y *yamlConv) convert(doc *yaml.Node) (any, error) {
	v := y.value(doc, 0)
	if y.left < 0 {
		return nil, fmt.Errorf("the document expands to more than %d values (aliases?)", maxYAMLValues)
	}
	return v, nil
}

func (y *yamlConv) value(n *yaml.Node, depth int) any {
	y.left--
	if n == nil || depth > 100 || y.left < 0 {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return y.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		return y.value(n.Alias, depth+1)
	case yaml.MappingNode:
		if y.asMaps {
			m := make(map[string]any, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				m[n.Content[i].Value] = y.value(n.Content[i+1], depth+1)
			}
			return m
		}
		d := ordereddict.NewDict()
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.Set(n.Content[i].Value, y.value(n.Content[i+1], depth+1))
		}
		return d
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			out = append(out, y.value(e, depth+1))
		}
		return out
	}
	return yamlScalar(n)
}

// yamlScalar is a scalar's value by its tag.
func yamlScalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		_ = n.Decode(&b)
		return b
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i
		}
		var i int64
		if n.Decode(&i) == nil {
			return i
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	return n.Value
}

// ParseXML converts an XML document the way Velociraptor does (the mxj
// convention): an element is a dict of its children by name (a repeated
// name is a list), its attributes as "-name" and its text as "#text"; an
// element with only text is that text.
var ParseXML = fn("parse_xml", "A dict of the XML document: children by element name, attributes as -name, text as #text.",
	[]vql.ArgSpec{arg("file", vql.TypeString, true, "The XML document (with accessor=\"data\")."), accessorArg},
	func(c call) any {
		b, ok := accessors.ReadArg(c.ctx, c.scope, c.args, "parse_xml", "file")
		if !ok {
			return nil
		}
		v, err := decodeXML(b)
		if err != nil {
			c.scope.Errorf("parse_xml: %v", err)
			return nil
		}
		return v
	})

func decodeXML(b []byte) (*ordereddict.Dict, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("no root element")
			}
			return nil, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			v, err := xmlElement(dec, start, 0)
			if err != nil {
				return nil, err
			}
			return ordereddict.NewDict().Set(start.Name.Local, v), nil
		}
	}
}

func xmlElement(dec *xml.Decoder, start xml.StartElement, depth int) (any, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("elements nested deeper than 1000")
	}
	d := ordereddict.NewDict()
	for _, a := range start.Attr {
		d.Set("-"+a.Name.Local, a.Value)
	}
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("element %s: %w", start.Name.Local, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			child, err := xmlElement(dec, t, depth+1)
			if err != nil {
				return nil, err
			}
			name := t.Name.Local
			if prev, ok := d.Get(name); ok {
				if l, isList := prev.([]any); isList {
					d.Update(name, append(l, child))
				} else {
					d.Update(name, []any{prev, child})
				}
			} else {
				d.Set(name, child)
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			s := strings.TrimSpace(text.String())
			if d.Len() == 0 {
				return s, nil
			}
			if s != "" {
				d.Set("#text", s)
			}
			return d, nil
		}
	}
}
