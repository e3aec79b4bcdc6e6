package goldens

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Query is one query of a golden file with the rows Velociraptor printed
// for it (raw JSON).
type Query struct {
	Text     string
	Expected json.RawMessage
}

// File is one golden test: X.in.yaml's parameters and queries, run in
// order in one scope, paired with X.out.yaml's outputs.
type File struct {
	Name       string // "dicts", from dicts.in.yaml
	Parameters map[string]string
	Queries    []Query
}

// ID names query i of the file in messages and in deviations.txt:
// "dicts/003", counted from 1.
func (f *File) ID(i int) string { return fmt.Sprintf("%s/%03d", f.Name, i+1) }

// inFile is the layout of X.in.yaml.
type inFile struct {
	Parameters map[string]string `yaml:"Parameters"`
	Queries    []string          `yaml:"Queries"`
}

// LoadDir reads every X.in.yaml of dir with its X.out.yaml, in name order.
func LoadDir(dir string) ([]*File, error) {
	ins, err := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(ins)
	var out []*File
	for _, in := range ins {
		f, err := LoadFile(in, strings.TrimSuffix(in, ".in.yaml")+".out.yaml")
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// LoadFile reads one test: the queries of in, the outputs of out, which
// must be as many.
func LoadFile(in, out string) (*File, error) {
	data, err := os.ReadFile(in)
	if err != nil {
		return nil, err
	}
	var spec inFile
	if err := yaml.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	text, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	outputs, err := ParseOutputs(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	if len(outputs) != len(spec.Queries) {
		return nil, fmt.Errorf("%s has %d outputs for the %d queries of %s", out, len(outputs), len(spec.Queries), in)
	}
	f := &File{Name: strings.TrimSuffix(filepath.Base(in), ".in.yaml"), Parameters: spec.Parameters}
	for i, q := range spec.Queries {
		f.Queries = append(f.Queries, Query{Text: q, Expected: outputs[i]})
	}
	return f, nil
}

// outputMark starts the rows of one query in an .out.yaml, at the start
// of a line.
const outputMark = "\nOutput: "

// ParseOutputs reads the rows of each query from the text of an
// .out.yaml: the text is not YAML but the golden runner's transcript, a
// `Query: …` line (or lines) then `Output: ` and an indented JSON array,
// for each query in turn. The JSON value after each mark is read whole,
// so a query text that looks like JSON does not confuse it.
func ParseOutputs(text []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	rest := append([]byte{'\n'}, text...)
	for {
		i := bytes.Index(rest, []byte(outputMark))
		if i < 0 {
			return out, nil
		}
		rest = rest[i+len(outputMark):]
		dec := json.NewDecoder(bytes.NewReader(rest))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("output %d: %w", len(out)+1, err)
		}
		out = append(out, raw)
		rest = rest[dec.InputOffset():]
	}
}
