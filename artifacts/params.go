package artifacts

import (
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"
	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/vql/value"
)

// Convert turns a parameter's text (its default, or a value given as
// text) into the value the sources see, as Velociraptor's parameter types
// say: int and float are numbers, bool is true for Y, yes, true, ok or 1
// (any case) and false otherwise, timestamp a time, csv and artifactset a
// list of rows (one dict per line after the header), json, yaml and
// json_array decoded values, regex a text that must compile, choices a
// text among Choices, multichoice a JSON list of them. Other types
// (string, hidden, upload, yara, ...) are the text itself. A given
// ValidatingRegex must match. The error names what is wrong, not the
// parameter: the caller adds that. Parse checks every default with it.
func (p Parameter) Convert(text string) (any, error) {
	if p.ValidatingRegex != "" && text != "" {
		re, err := regexp.Compile(p.ValidatingRegex)
		if err != nil {
			return nil, fmt.Errorf("validating_regex: %v", err)
		}
		if !re.MatchString(text) {
			return nil, fmt.Errorf("%q does not match %s", text, p.ValidatingRegex)
		}
	}
	trimmed := strings.TrimSpace(text)
	switch strings.ToLower(p.Type) {
	case "int", "int64", "integer", "uint64":
		return paramInt(trimmed)
	case "float":
		if trimmed == "" {
			return 0.0, nil
		}
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", text)
		}
		return f, nil
	case "bool":
		switch strings.ToLower(trimmed) {
		case "y", "yes", "true", "ok", "1":
			return true, nil
		}
		return false, nil
	case "timestamp":
		if trimmed == "" {
			return nil, nil
		}
		return value.ParseTime(trimmed)
	case "csv", "artifactset":
		return paramCSV(text)
	case "json":
		if trimmed == "" {
			return nil, nil
		}
		return value.DecodeJSON([]byte(trimmed))
	case "json_array", "multichoice", "regex_array":
		return paramList(p, trimmed)
	case "yaml":
		return paramYAML(text)
	case "regex":
		if _, err := regexp.Compile(text); err != nil {
			return nil, fmt.Errorf("invalid regex: %v", err)
		}
	case "choices":
		if text != "" && len(p.Choices) > 0 && !slices.Contains(p.Choices, text) {
			return nil, fmt.Errorf("%q is not one of the choices (%s)", text, strings.Join(p.Choices, ", "))
		}
	}
	return text, nil
}

// paramInt reads an integer; an empty text is 0, and values past int64
// (such as 18446744073709551615) are read as unsigned.
func paramInt(text string) (any, error) {
	if text == "" {
		return int64(0), nil
	}
	if i, err := strconv.ParseInt(text, 0, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(text, 0, 64); err == nil {
		return u, nil
	}
	return nil, fmt.Errorf("%q is not an integer", text)
}

// paramCSV reads CSV text with a header line into one dict per line.
func paramCSV(text string) (any, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("invalid CSV: %v", err)
	}
	rows := []any{}
	if len(records) == 0 {
		return rows, nil
	}
	header := records[0]
	for _, rec := range records[1:] {
		d := ordereddict.NewDict()
		for i, col := range header {
			cell := ""
			if i < len(rec) {
				cell = rec[i]
			}
			d.Set(col, cell)
		}
		rows = append(rows, d)
	}
	return rows, nil
}

// paramList reads a JSON list; for multichoice each item must be one of
// the choices.
func paramList(p Parameter, text string) (any, error) {
	if text == "" {
		return []any{}, nil
	}
	v, err := value.DecodeJSON([]byte(text))
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a JSON list, not %s", value.TypeName(v))
	}
	if strings.EqualFold(p.Type, "multichoice") && len(p.Choices) > 0 {
		for _, item := range list {
			if s, _ := item.(string); !slices.Contains(p.Choices, s) {
				return nil, fmt.Errorf("%v is not one of the choices (%s)", item, strings.Join(p.Choices, ", "))
			}
		}
	}
	return list, nil
}

// paramYAML decodes YAML text, keeping the order of mappings.
func paramYAML(text string) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %v", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return yamlValue(doc.Content[0])
}

func yamlValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return yamlValue(n.Alias)
	case yaml.MappingNode:
		d := ordereddict.NewDict()
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			d.Set(n.Content[i].Value, v)
		}
		return d, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	if i, ok := v.(int); ok {
		return int64(i), nil
	}
	return v, nil
}
