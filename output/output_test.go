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
	w, err := New(format, &b, Options{Width: width})
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
	if _, err := New("xml", nil, Options{}); err == nil || !strings.Contains(err.Error(), "json, jsonl, csv, table") {
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
	w, _ := New("table", &b, Options{})
	w.Begin()
	w.End()
	if b.String() != "0 rows\n" {
		t.Errorf("empty table: %q", b.String())
	}
}

// mixed are rows whose shapes and widths change as they stream: new
// columns, values wider than any before, wide characters.
func mixed() []*ordereddict.Dict {
	return []*ordereddict.Dict{
		ordereddict.NewDict().Set("a", int64(1)),
		ordereddict.NewDict().Set("b", int64(2)),
		ordereddict.NewDict().Set("a", int64(3)).Set("c", int64(4)),
		ordereddict.NewDict().Set("a", "a much wider value than before"),
		ordereddict.NewDict().Set("c", "事件日志🦖").Set("d", "tail"),
	}
}

// TestEveryValueIsShown: whatever the format, every value of rows of
// changing shape appears whole in the output, flushed after each row (as
// an event query is) or in one batch.
func TestEveryValueIsShown(t *testing.T) {
	values := []string{"1", "2", "3", "4", "a much wider value than before", "事件日志🦖", "tail"}
	for _, format := range Formats {
		for _, flushEach := range []bool{false, true} {
			out := stream(format, 0, mixed(), flushEach)
			for _, v := range values {
				if !strings.Contains(out, v) {
					t.Errorf("%s (flush each row %v): %q missing from\n%s", format, flushEach, v, out)
				}
			}
		}
	}
}

func TestCSVStartsANewHeaderWhenColumnsChange(t *testing.T) {
	got := stream("csv", 0, mixed(), false)
	want := "a\n1\na,b\n,2\na,b,c\n3,,4\na much wider value than before,,\na,b,c,d\n,,事件日志🦖,tail\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestTableNeverCutsAValueThatFits: a streamed value wider than its column
// continues the table under a wider header, as do new columns; lines of
// wide characters line up by display width.
func TestTableNeverCutsAValueThatFits(t *testing.T) {
	got := stream("table", 80, mixed(), true)
	want := "" +
		"+---+\n" +
		"| a |\n" +
		"+---+\n" +
		"| 1 |\n" +
		"+---+\n" +
		"+---+---+\n" +
		"| a | b |\n" +
		"+---+---+\n" +
		"|   | 2 |\n" +
		"+---+---+\n" +
		"+---+---+---+\n" +
		"| a | b | c |\n" +
		"+---+---+---+\n" +
		"| 3 |   | 4 |\n" +
		"+---+---+---+\n" +
		"+--------------------------------+---+---+\n" +
		"| a                              | b | c |\n" +
		"+--------------------------------+---+---+\n" +
		"| a much wider value than before |   |   |\n" +
		"+--------------------------------+---+---+\n" +
		"+--------------------------------+---+------------+------+\n" +
		"| a                              | b | c          | d    |\n" +
		"+--------------------------------+---+------------+------+\n" +
		"|                                |   | 事件日志🦖 | tail |\n" +
		"+--------------------------------+---+------------+------+\n" +
		"5 rows\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestTableCutsOnlyRowsWiderThanTheTerminal: a value is cut with … only
// when its row would not fit the terminal, and a cut column does not start
// a new header for every long value.
func TestTableCutsOnlyRowsWiderThanTheTerminal(t *testing.T) {
	var long []*ordereddict.Dict
	for _, v := range []string{strings.Repeat("x", 30), strings.Repeat("y", 40), "short"} {
		long = append(long, ordereddict.NewDict().Set("v", v))
	}
	got := stream("table", 20, long, true)
	want := "" +
		"+------------------+\n" +
		"| v                |\n" +
		"+------------------+\n" +
		"| xxxxxxxxxxxxxxx… |\n" +
		"| yyyyyyyyyyyyyyy… |\n" +
		"| short            |\n" +
		"+------------------+\n" +
		"3 rows\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// stream writes rows as one SELECT, flushing after each row when an event
// query would.
func stream(format string, width int, rows []*ordereddict.Dict, flushEach bool) string {
	var b bytes.Buffer
	w, _ := New(format, &b, Options{Width: width})
	w.Begin()
	for _, r := range rows {
		w.Row(r)
		if flushEach {
			w.Flush()
		}
	}
	w.End()
	return b.String()
}
