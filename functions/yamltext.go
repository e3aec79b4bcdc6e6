package functions

import (
	"bytes"
	"strconv"

	"github.com/Velocidex/ordereddict"
	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/vql/value"
)

// yamlText renders a value as a YAML document the way Velociraptor's
// serialize(format='yaml') does: keys in order, two-space indent, list
// items at their key's column. The value goes through its JSON form
// first, so every type serializes as it does to JSON.
func yamlText(v any) (string, error) {
	b, err := value.EncodeJSON(v)
	if err != nil {
		return "", err
	}
	plain, err := value.DecodeJSON(b)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlNode(plain)); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return out.String(), nil
}

// yamlNode builds the YAML node of a decoded JSON value.
func yamlNode(v any) *yaml.Node {
	scalar := func(tag, text string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text}
	}
	switch t := v.(type) {
	case nil:
		return scalar("!!null", "null")
	case bool:
		return scalar("!!bool", strconv.FormatBool(t))
	case int64:
		return scalar("!!int", strconv.FormatInt(t, 10))
	case float64:
		return scalar("!!float", strconv.FormatFloat(t, 'g', -1, 64))
	case string:
		return scalar("!!str", t)
	case *ordereddict.Dict:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, item := range t.Items() {
			n.Content = append(n.Content, scalar("!!str", item.Key), yamlNode(item.Value))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range t {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	}
	b, _ := value.EncodeJSON(v)
	return scalar("!!str", string(b))
}
