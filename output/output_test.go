package output

import (
	"bytes"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"
)

func rows() []*ordereddict.Dict {
	return []*ordereddict.Dict{
		ordereddict.NewDict().Set("name", "alice").Set("n", int64(1)).Set("tags", []any{"a", "b"}),
		ordereddict.NewDict().Set("name", strings.Repeat("x", 60)).Set("n", nil).Set("tags", ordereddict.NewDict().Set("k", "v")),
	}
}

func write(t *testing.T, format string, width int) string {
	var b bytes.Buffer
	w, err := New(format, &b, width)
	if err != nil {
		t.Fatal(err)
	}
	w.Begin()
	for _, r := range rows() {
		w.Row(r)
	}
	w.End()
	return b.String()
}

func TestFormats(t *testing.T) {
	tests := []struct {
		format string
		width  int
		want   string
	}{
		{"json", 0, `[{"name":"alice","n":1,"tags":["a","b"]},` + "\n" + `{"name":"` + strings.Repeat("x", 60) + `","n":null,"tags":{"k":"v"}}]` + "\n"},
		{"jsonl", 0, `{"name":"alice","n":1,"tags":["a","b"]}` + "\n" + `{"name":"` + strings.Repeat("x", 60) + `","n":null,"tags":{"k":"v"}}` + "\n"},
		{"csv", 0, "name,n,tags\nalice,1,\"[\"\"a\"\",\"\"b\"\"]\"\n" + strings.Repeat("x", 60) + ",,\"{\"\"k\"\":\"\"v\"\"}\"\n"},
		{"table", 40, "" +
			"+----------------------+---+-----------+\n" +
			"| name                 | n | tags      |\n" +
			"+----------------------+---+-----------+\n" +
			"| alice                | 1 | [\"a\",\"b\"] |\n" +
			"| xxxxxxxxxxxxxxxxxxx… |   | {\"k\":\"v\"} |\n" +
			"+----------------------+---+-----------+\n" +
			"2 rows\n"},
	}
	for _, tt := range tests {
		if got := write(t, tt.format, tt.width); got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.format, got, tt.want)
		}
	}
	if _, err := New("xml", nil, 0); err == nil || !strings.Contains(err.Error(), "json, jsonl, csv, table") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestTableFitsTheTerminal(t *testing.T) {
	for _, line := range strings.Split(strings.TrimSpace(write(t, "table", 40)), "\n") {
		if n := len([]rune(line)); n > 40 {
			t.Errorf("line of %d runes: %s", n, line)
		}
	}
	var b bytes.Buffer
	w, _ := New("table", &b, 0)
	w.Begin()
	w.End()
	if b.String() != "0 rows\n" {
		t.Errorf("empty table: %q", b.String())
	}
}
