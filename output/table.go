package output

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
)

// batchSize is how many rows a table collects before it fixes its column
// widths; Flush prints earlier (the CLI flushes when rows stop coming, so an
// event query shows each event as it arrives).
const batchSize = 100

// tableWriter prints aligned tables. Widths come from the first batch of
// rows; later values are cut to fit. Long values are cut to the terminal
// width, with an ellipsis.
type tableWriter struct {
	w       io.Writer
	width   int
	columns []string
	widths  []int
	pending []*ordereddict.Dict
	started bool
	count   int
}

func (t *tableWriter) Begin() error {
	t.columns, t.widths, t.pending, t.started, t.count = nil, nil, nil, false, 0
	return nil
}

func (t *tableWriter) Row(row *ordereddict.Dict) error {
	t.pending = append(t.pending, row)
	t.count++
	if len(t.pending) >= batchSize {
		return t.Flush()
	}
	return nil
}

func (t *tableWriter) Flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	if !t.started {
		t.layout()
	}
	var b strings.Builder
	if !t.started {
		t.rule(&b)
		t.line(&b, t.columns)
		t.rule(&b)
		t.started = true
	}
	for _, row := range t.pending {
		cells := make([]string, len(t.columns))
		for i, c := range t.columns {
			v, _ := row.Get(c)
			cells[i] = Cell(v)
		}
		t.line(&b, cells)
	}
	t.pending = t.pending[:0]
	_, err := io.WriteString(t.w, b.String())
	return err
}

func (t *tableWriter) End() error {
	if err := t.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	if t.started {
		t.rule(&b)
	}
	noun := "rows"
	if t.count == 1 {
		noun = "row"
	}
	fmt.Fprintf(&b, "%d %s\n", t.count, noun)
	_, err := io.WriteString(t.w, b.String())
	return err
}

// layout picks the columns (in order of first appearance) and their widths
// from the pending rows, shrinking the widest columns to fit the terminal.
func (t *tableWriter) layout() {
	seen := map[string]bool{}
	for _, row := range t.pending {
		for _, k := range row.Keys() {
			if !seen[k] {
				seen[k] = true
				t.columns = append(t.columns, k)
			}
		}
	}
	t.widths = make([]int, len(t.columns))
	for i, c := range t.columns {
		t.widths[i] = displayWidth(c)
		for _, row := range t.pending {
			v, _ := row.Get(c)
			t.widths[i] = max(t.widths[i], displayWidth(Cell(v)))
		}
	}
	if t.width <= 0 {
		return
	}
	// Each column costs 3 characters of padding and separator, plus one.
	for {
		total := 1
		widest := 0
		for i, w := range t.widths {
			total += w + 3
			if w > t.widths[widest] {
				widest = i
			}
		}
		if total <= t.width || t.widths[widest] <= 8 {
			return
		}
		t.widths[widest] = max(8, t.widths[widest]-(total-t.width))
	}
}

func (t *tableWriter) rule(b *strings.Builder) {
	b.WriteByte('+')
	for _, w := range t.widths {
		b.WriteString(strings.Repeat("-", w+2))
		b.WriteByte('+')
	}
	b.WriteByte('\n')
}

func (t *tableWriter) line(b *strings.Builder, cells []string) {
	b.WriteByte('|')
	for i, c := range cells {
		c = fit(strings.ReplaceAll(strings.ReplaceAll(c, "\n", `\n`), "\t", " "), t.widths[i])
		b.WriteByte(' ')
		b.WriteString(c)
		b.WriteString(strings.Repeat(" ", t.widths[i]-displayWidth(c)+1))
		b.WriteByte('|')
	}
	b.WriteByte('\n')
}

func displayWidth(s string) int { return utf8.RuneCountInString(s) }

// fit cuts s to width runes, ending with an ellipsis when cut.
func fit(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	runes := []rune(s)
	if width <= 1 {
		return string(runes[:width])
	}
	return string(runes[:width-1]) + "…"
}
