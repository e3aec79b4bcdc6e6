package output

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/Velocidex/ordereddict"
	"github.com/mattn/go-runewidth"
)

// batchSize is how many rows a table collects before it lays out its
// columns; Flush prints earlier (the CLI flushes when rows stop coming, so an
// event query shows each event as it arrives).
const batchSize = 100

// tableWriter prints aligned tables. It never changes a value: columns are
// as wide as their widest value, and a value is cut (with …) only when the
// row would be wider than the terminal. When a later row has a column the
// table has not shown, or a value wider than its column, the table is
// closed and continues under a new header, wider or with the new columns.
type tableWriter struct {
	w       io.Writer
	opts    Options
	columns []string
	widths  []int // as printed
	natural []int // as the values want, before fitting the terminal
	pending []*ordereddict.Dict
	started bool
	count   int
}

func (t *tableWriter) Begin() error {
	t.columns, t.widths, t.natural, t.pending, t.started, t.count = nil, nil, nil, nil, false, 0
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
	var b strings.Builder
	first := t.count - len(t.pending) + 1 // the number of pending[0] in the SELECT
	for i, row := range t.pending {
		r := textOf(row) // each value rendered once
		if t.expand(r) {
			if t.started {
				t.rule(&b)
				t.started = false
			}
			t.record(&b, first+i, r)
			continue
		}
		if !t.started || !t.fits(r) {
			t.relayout(&b, t.pending[i:])
		}
		cells := make([]string, len(t.columns))
		for j, c := range t.columns {
			if k := slices.Index(r.keys, c); k >= 0 {
				cells[j] = r.cells[k]
			}
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

// fits reports whether row can be printed under the current header
// without hiding anything: every column it has is shown, and every value
// is as narrow as its column, unless that column is already cut to fit
// the terminal.
func (t *tableWriter) fits(r rowText) bool {
	for n, k := range r.keys {
		i := slices.Index(t.columns, k)
		if i < 0 {
			return false
		}
		if w := displayWidth(r.cells[n]); w > t.widths[i] && t.widths[i] == t.natural[i] {
			return false
		}
	}
	return true
}

// relayout lays the table out again for rows (the row that did not fit
// and those after it in the batch): the columns shown so far, then new
// ones in order of appearance, each at least as wide as before. If the
// layout changed, the current block is closed and a new header printed.
func (t *tableWriter) relayout(b *strings.Builder, rows []*ordereddict.Dict) {
	columns := append([]string(nil), t.columns...)
	natural := append([]int(nil), t.natural...)
	for _, row := range rows {
		for _, k := range row.Keys() {
			if !slices.Contains(columns, k) {
				columns = append(columns, k)
				natural = append(natural, displayWidth(k))
			}
		}
	}
	for i, c := range columns {
		natural[i] = max(natural[i], displayWidth(c))
		for _, row := range rows {
			if v, ok := row.Get(c); ok {
				natural[i] = max(natural[i], displayWidth(tableCell(v)))
			}
		}
	}
	widths := shrink(natural, t.opts.Width)
	if t.started && len(columns) == len(t.columns) && slices.Equal(widths, t.widths) {
		return
	}
	if t.started {
		t.rule(b)
	}
	t.columns, t.natural, t.widths, t.started = columns, natural, widths, true
	t.rule(b)
	if !t.opts.NoHeaders {
		t.line(b, t.columns)
		t.rule(b)
	}
}

// expand reports whether row is shown expanded: always with ExpandOn,
// and with ExpandAuto when its columns, at full width, are wider than the
// terminal.
func (t *tableWriter) expand(r rowText) bool {
	switch t.opts.Expanded {
	case ExpandOn:
		return true
	case ExpandAuto:
		if t.opts.Width <= 0 {
			return false
		}
		total := 1
		for n, k := range r.keys {
			total += max(displayWidth(k), displayWidth(r.cells[n])) + 3
		}
		return total > t.opts.Width
	}
	return false
}

// record prints row n as psql's expanded display does: a heading, then
// one `column | value` line per column, values whole.
func (t *tableWriter) record(b *strings.Builder, n int, r rowText) {
	nameWidth := 0
	for _, k := range r.keys {
		nameWidth = max(nameWidth, displayWidth(k))
	}
	heading := fmt.Sprintf("-[ RECORD %d ]", n)
	b.WriteString(heading)
	b.WriteString(strings.Repeat("-", max(1, nameWidth+3-displayWidth(heading))))
	b.WriteByte('\n')
	for i, k := range r.keys {
		b.WriteString(k)
		b.WriteString(strings.Repeat(" ", nameWidth-displayWidth(k)))
		b.WriteString(" | ")
		b.WriteString(r.cells[i])
		b.WriteByte('\n')
	}
}

// rowText is a row's columns and their values as a table shows them.
type rowText struct {
	keys, cells []string
}

func textOf(row *ordereddict.Dict) rowText {
	keys := row.Keys()
	cells := make([]string, len(keys))
	for i, k := range keys {
		v, _ := row.Get(k)
		cells[i] = tableCell(v)
	}
	return rowText{keys, cells}
}

// shrink narrows the widest columns until a row fits width (0: no
// limit); no column goes below 8.
func shrink(natural []int, width int) []int {
	widths := append([]int(nil), natural...)
	if width <= 0 {
		return widths
	}
	// Each column costs 3 characters of padding and separator, plus one.
	for {
		total := 1
		widest := 0
		for i, w := range widths {
			total += w + 3
			if w > widths[widest] {
				widest = i
			}
		}
		if total <= width || widths[widest] <= 8 {
			return widths
		}
		widths[widest] = max(8, widths[widest]-(total-width))
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
		c = fit(c, t.widths[i])
		b.WriteByte(' ')
		b.WriteString(c)
		b.WriteString(strings.Repeat(" ", t.widths[i]-displayWidth(c)+1))
		b.WriteByte('|')
	}
	b.WriteByte('\n')
}

// tableCell is Cell on one line: a newline shows as \n, a tab as a space,
// so that what is measured is what is printed.
func tableCell(v any) string {
	s := Cell(v)
	if strings.ContainsAny(s, "\n\r\t") {
		s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
	}
	return s
}

// displayWidth is the number of terminal cells s takes: CJK and emoji
// take two, combining marks none.
func displayWidth(s string) int { return runewidth.StringWidth(s) }

// fit cuts s to width terminal cells, ending with an ellipsis when cut.
func fit(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	return runewidth.Truncate(s, width, "…")
}
