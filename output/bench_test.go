package output

import (
	"io"
	"testing"

	"github.com/Velocidex/ordereddict"
)

// BenchmarkWriters streams rows of three columns (a number, a string, a
// dict) through each format, as `vqlq query` does.
func BenchmarkWriters(b *testing.B) {
	row := ordereddict.NewDict().Set("n", int64(12345)).Set("name", "svchost.exe").Set("meta", ordereddict.NewDict().Set("pid", int64(4)))
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			w, _ := New(format, io.Discard, Options{Width: 120})
			w.Begin()
			b.ReportAllocs()
			for b.Loop() {
				w.Row(row)
			}
			w.End()
		})
	}
}
