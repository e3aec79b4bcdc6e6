// Package output writes rows for people and programs: JSON, JSON lines,
// CSV and aligned tables. Every writer streams: rows are written (and
// flushed) as they arrive, so an endless event query shows its events.
package output

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// Writer receives the rows of a program, statement by statement.
type Writer interface {
	// Begin starts the rows of a new SELECT.
	Begin() error
	// Row writes one row.
	Row(row *ordereddict.Dict) error
	// Flush writes out anything buffered (a table waits for a few rows to
	// size its columns).
	Flush() error
	// End finishes the current SELECT.
	End() error
}

// Formats lists the names New accepts.
var Formats = []string{"json", "jsonl", "csv", "table"}

// Options are the display settings of the csv and table writers.
type Options struct {
	// Width is the terminal width tables fit (0: no limit).
	Width int
	// NoHeaders leaves out the header of tables and CSV (.headers off).
	NoHeaders bool
	// Expanded shows table rows as one `column | value` line each, as
	// psql's \x does: always, never, or (ExpandAuto) for rows wider than
	// Width.
	Expanded Expand
}

// Expand says when a table shows rows expanded.
type Expand int

// The expanded display modes.
const (
	ExpandOff Expand = iota
	ExpandOn
	ExpandAuto
)

// New returns a writer for format.
func New(format string, w io.Writer, opts Options) (Writer, error) {
	switch format {
	case "json":
		return &jsonWriter{w: w}, nil
	case "jsonl":
		return &jsonlWriter{w: w}, nil
	case "csv":
		return &csvWriter{w: csv.NewWriter(w), noHeaders: opts.NoHeaders}, nil
	case "table":
		return &tableWriter{w: w, opts: opts}, nil
	}
	return nil, fmt.Errorf("unknown format %q (choose one of %s)", format, strings.Join(Formats, ", "))
}

// Marshal renders a value as compact JSON without HTML escaping.
func Marshal(v any) ([]byte, error) { return value.EncodeJSON(v) }

// jsonWriter prints each SELECT as one JSON array, a row per line.
type jsonWriter struct {
	w     io.Writer
	count int
}

func (j *jsonWriter) Begin() error { j.count = 0; return nil }

func (j *jsonWriter) Row(row *ordereddict.Dict) error {
	b, err := Marshal(row)
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.count == 0 {
		sep = "["
	}
	j.count++
	_, err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return err
}

func (j *jsonWriter) Flush() error { return nil }

func (j *jsonWriter) End() error {
	if j.count == 0 {
		_, err := io.WriteString(j.w, "[]\n")
		return err
	}
	_, err := io.WriteString(j.w, "]\n")
	return err
}

// jsonlWriter prints one JSON object per line.
type jsonlWriter struct{ w io.Writer }

func (j *jsonlWriter) Begin() error { return nil }
func (j *jsonlWriter) Flush() error { return nil }
func (j *jsonlWriter) End() error   { return nil }

func (j *jsonlWriter) Row(row *ordereddict.Dict) error {
	b, err := Marshal(row)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(j.w, "%s\n", b)
	return err
}

// Cell renders one value for CSV and tables: strings as they are, NULL as
// empty, everything else as compact JSON.
func Cell(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	b, err := Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
