package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that no text makes Parse panic, and that what it
// returns is consistent: an artifact with a valid name and type, or a
// *DefinitionError with a line.
func FuzzParse(f *testing.F) {
	seeds := []string{
		receiveDef,
		collectDef,
		"name: A\ntype: server_event\nparameters:\n  - name: P\n    default: 1\nsources:\n  - name: S\n    query: q\ncolumn_types:\n  - {a: b}\n",
		"name: A\nauthor: &x y\ndescription: *x\n",
		"name: A\ncolumn_types: [&a [*a]]\n",
		"{name: A, sources: [{query: q}]}",
		"name: A\n---\nname: B\n",
		"name: a: b\n",
		"\tname: A\n",
		"name: A\n\x01\n",
		"",
	}
	_ = fs.WalkDir(builtinFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			text, _ := builtinFS.ReadFile(path)
			seeds = append(seeds, string(text))
		}
		return nil
	})
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		a, err := Parse(text, "fuzz.yaml")
		if err != nil {
			if a != nil {
				t.Fatalf("both an artifact and an error: %v", err)
			}
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("error %q (%T) is not a *DefinitionError", err, err)
			}
			if de.File != "fuzz.yaml" || de.Line < 1 || de.Msg == "" {
				t.Fatalf("error without file, line or message: %#v", de)
			}
			if strings.Contains(de.Msg, "goroutine ") || strings.Contains(de.Msg, "cannot read the definition") {
				t.Fatalf("a panic became the error: %v", err)
			}
			return
		}
		if !namePattern.MatchString(a.Name) {
			t.Fatalf("accepted name %q", a.Name)
		}
		if !slices.Contains(allTypes, a.Type) {
			t.Fatalf("accepted type %q", a.Type)
		}
		if a.Text != string(text) {
			t.Fatal("Text differs from the input")
		}
		// Compared as printed, since column_types may hold a NaN.
		again, err := Parse(text, "fuzz.yaml")
		if err != nil || fmt.Sprintf("%#v", a) != fmt.Sprintf("%#v", again) {
			t.Fatalf("a second Parse differs: %v", err)
		}
	})
}
