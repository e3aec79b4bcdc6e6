package output

import (
	"encoding/csv"
	"slices"

	"github.com/Velocidex/ordereddict"
)

// csvWriter prints a header and one record per row. The header is every
// column seen so far in the SELECT: when a row brings a column the header
// lacks, a new header line (the old columns, then the new) starts a new
// block, so no value is ever left out.
type csvWriter struct {
	w         *csv.Writer
	header    []string
	started   bool
	noHeaders bool
}

func (c *csvWriter) Begin() error { c.header, c.started = nil, false; return nil }

func (c *csvWriter) Row(row *ordereddict.Dict) error {
	keys := row.Keys()
	if !c.started || !containsAll(c.header, keys) {
		c.started = true
		for _, k := range keys {
			if !slices.Contains(c.header, k) {
				c.header = append(c.header, k)
			}
		}
		if !c.noHeaders {
			if err := c.w.Write(c.header); err != nil {
				return err
			}
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

func containsAll(list, names []string) bool {
	for _, n := range names {
		if !slices.Contains(list, n) {
			return false
		}
	}
	return true
}

func (c *csvWriter) Flush() error { c.w.Flush(); return c.w.Error() }
func (c *csvWriter) End() error   { return c.Flush() }
