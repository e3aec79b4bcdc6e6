// Package source holds source positions and the error type that quotes the
// offending line with a caret, so every stage reports problems the same way.
package source

import (
	"fmt"
	"strings"
)

// Pos is a place in a VQL text. Line and Column count from 1 (column in
// bytes) so that they read the way editors show them; Offset counts bytes
// from 0 for slicing.
type Pos struct {
	Offset int
	Line   int
	Column int
}

// String renders "line:column", the form used in every message.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// IsValid reports whether the position was set; the zero Pos means
// "unknown" (for example a node built by a program rather than parsed).
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is a problem found in a VQL text. It keeps the text so that Error()
// can quote the line and point at the column, the way users expect a
// compiler to.
type Error struct {
	// File names the script ("script.vql"); empty for a query typed inline.
	File string
	Pos  Pos
	Msg  string
	// Text is the whole source the position refers to.
	Text string
	// Incomplete is true when the text ended before the statement did (an
	// open parenthesis, a trailing WHERE). A REPL uses it to keep reading.
	Incomplete bool
}

// Error renders `file:line:col: message`, then the source line and a caret.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if line, ok := lineAt(e.Text, e.Pos.Line); ok {
		b.WriteByte('\n')
		b.WriteString(Caret(line, e.Pos.Column))
	}
	return b.String()
}

// Caret returns the line followed by a second line with a caret under the
// given 1-based column. Tabs before the column are kept so the caret lines
// up in a terminal. Very long lines are cut around the column.
func Caret(line string, column int) string {
	const maxWidth = 160
	if column < 1 {
		column = 1
	}
	if column > len(line)+1 {
		column = len(line) + 1
	}
	start := 0
	if len(line) > maxWidth {
		start = column - maxWidth/2
		if start < 0 {
			start = 0
		}
		end := start + maxWidth
		if end > len(line) {
			end = len(line)
		}
		line = line[start:end]
	}
	var pad strings.Builder
	for _, r := range line[:min(column-1-start, len(line))] {
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return line + "\n" + pad.String() + "^"
}

func lineAt(text string, n int) (string, bool) {
	if n < 1 {
		return "", false
	}
	for i := 1; ; i++ {
		idx := strings.IndexByte(text, '\n')
		if i == n {
			if idx >= 0 {
				return strings.TrimRight(text[:idx], "\r"), true
			}
			return text, true
		}
		if idx < 0 {
			return "", false
		}
		text = text[idx+1:]
	}
}

// Summary is `file:line:col: message` on one line, without the quoted
// line: the form for a list of problems, such as the warnings about the
// artifacts a definitions folder could not load.
func (e *Error) Summary() string {
	if e.File != "" {
		return e.File + ":" + e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}
