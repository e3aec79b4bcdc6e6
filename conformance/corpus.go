package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/internal/sharedfolder"
)

// keyPattern splits a corpus key into case number, statement number, name
// and query, as the corpus README prescribes.
var keyPattern = regexp.MustCompile(`(?s)^(\d{3})(?:/(\d{3}))? (.*?): ((?:SELECT|LET|EXPLAIN)\b.*)$`)

// Statement is one query of a case with its expected rows (raw JSON).
type Statement struct {
	Key      string
	Query    string
	Expected json.RawMessage
}

// Case is one independent test: one or more statements sharing a scope.
type Case struct {
	ID         string // "003" or "multi/020"
	Name       string
	Statements []Statement
}

// Dir returns the corpus folder and whether it exists, with the places
// tried for the skip message: $VQLQ_CONFORMANCE_DIR, then
// conformance/vfilter in the shared folder beside the checkout.
func Dir() (string, bool, []string) {
	var tried []string
	if d := os.Getenv("VQLQ_CONFORMANCE_DIR"); d != "" {
		tried = append(tried, d)
		if _, err := os.Stat(filepath.Join(d, "vql_queries.golden")); err == nil {
			return d, true, tried
		}
	}
	p, more, ok := sharedfolder.Find(filepath.Join("conformance", "vfilter", "vql_queries.golden"))
	for _, m := range more {
		tried = append(tried, filepath.Dir(m))
	}
	if !ok {
		return "", false, tried
	}
	return filepath.Dir(p), true, tried
}

// orderedKeys returns the keys of a JSON object in file order.
func orderedKeys(data []byte) ([]string, map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, err
		}
	}
	return keys, m, nil
}

// LoadCases reads both golden files into cases, in file order.
func LoadCases(dir string) ([]Case, error) {
	var cases []Case
	for _, file := range []string{"vql_queries.golden", "multi_vql_queries.golden"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		keys, values, err := orderedKeys(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		multi := strings.HasPrefix(file, "multi")
		index := map[string]int{}
		for _, k := range keys {
			m := keyPattern.FindStringSubmatch(k)
			if m == nil {
				return nil, fmt.Errorf("%s: key does not match the corpus pattern: %q", file, k)
			}
			id := m[1]
			if multi {
				id = "multi/" + m[1]
			}
			st := Statement{Key: k, Query: m[4], Expected: values[k]}
			if i, ok := index[id]; ok && multi {
				cases[i].Statements = append(cases[i].Statements, st)
				continue
			}
			index[id] = len(cases)
			cases = append(cases, Case{ID: id, Name: m[3], Statements: []Statement{st}})
		}
	}
	return cases, nil
}

// Expression is one entry of expressions.json.
type Expression struct {
	Expression string          `json:"expression"`
	Expected   json.RawMessage `json:"expected"`
}

// LoadExpressions reads expressions.json.
func LoadExpressions(dir string) ([]Expression, error) {
	data, err := os.ReadFile(filepath.Join(dir, "expressions.json"))
	if err != nil {
		return nil, err
	}
	var out []Expression
	return out, json.Unmarshal(data, &out)
}

// Deviations reads deviations.txt: "case-id<TAB>reason" lines.
func Deviations(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: want \"case-id<TAB>reason\"", path, n+1)
		}
		out[id] = strings.TrimSpace(reason)
	}
	return out, nil
}

// SameJSON compares two JSON documents structurally: object key order
// matters, numbers compare by value, and null equals an empty list (the
// corpus writes null for "no rows").
func SameJSON(a, b []byte) bool {
	va, err1 := decodeOrdered(a)
	vb, err2 := decodeOrdered(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return equalOrdered(va, vb)
}

type pair struct {
	k string
	v any
}

func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			var obj []pair
			for dec.More() {
				k, _ := dec.Token()
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, pair{k.(string), v})
			}
			_, err := dec.Token()
			return obj, err
		}
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token()
		return list, err
	case json.Number:
		return strconv.ParseFloat(string(t), 64)
	}
	return tok, nil
}

func equalOrdered(a, b any) bool {
	if l, ok := a.([]any); ok && len(l) == 0 && b == nil {
		return true
	}
	if l, ok := b.([]any); ok && len(l) == 0 && a == nil {
		return true
	}
	switch x := a.(type) {
	case []pair:
		y, ok := b.([]pair)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].k != y[i].k || !equalOrdered(x[i].v, y[i].v) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalOrdered(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// Compact is raw JSON on one line, for a failure message; text that is
// not JSON is returned as it is.
func Compact(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// sortedIDs lists map keys in order, for stable messages.
func sortedIDs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
