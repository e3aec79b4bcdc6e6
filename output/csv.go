package output

import (
	"encoding/csv"
	"io"

	"github.com/Velocidex/ordereddict"
)

// csvWriter prints a header (the first row's columns) and one record per
// row. Columns that only later rows have are left out.
type csvWriter struct {
	w      *csv.Writer
	header []string
}

func newCSV(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

func (c *csvWriter) Begin() error { c.header = nil; return nil }

func (c *csvWriter) Row(row *ordereddict.Dict) error {
	if c.header == nil {
		c.header = row.Keys()
		if err := c.w.Write(c.header); err != nil {
			return err
		}
	}
	rec := make([]string, len(c.header))
	for i, k := range c.header {
		v, _ := row.Get(k)
		rec[i] = Cell(v)
	}
	if err := c.w.Write(rec); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) Flush() error { c.w.Flush(); return c.w.Error() }
func (c *csvWriter) End() error   { return c.Flush() }
