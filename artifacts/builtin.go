package artifacts

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// builtinFS holds the definitions shipped inside the binary, one file per
// artifact, so that every server has the queues the seed document lists
// without any setup.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtins parses the embedded definitions once. They are part of the
// program, so a bad one is a programming error; the tests parse them all.
var builtins = sync.OnceValue(func() map[string]*Artifact {
	byName := map[string]*Artifact{}
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		panic("artifacts: reading embedded definitions: " + err.Error())
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		file := path.Join("builtin", e.Name())
		text, err := builtinFS.ReadFile(file)
		if err != nil {
			panic("artifacts: reading embedded definition: " + err.Error())
		}
		a, err := Parse(text, file)
		if err != nil {
			panic("artifacts: embedded definition: " + err.Error())
		}
		if _, dup := byName[a.Name]; dup {
			panic("artifacts: two embedded definitions of " + a.Name)
		}
		a.BuiltIn = true
		byName[a.Name] = a
	}
	return byName
})

// Builtins returns the artifacts shipped inside the binary, sorted by
// name. They exist in every org and cannot be replaced or deleted. The
// values are shared: treat them as read-only.
func Builtins() []*Artifact {
	m := builtins()
	out := make([]*Artifact, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	sortByName(out)
	return out
}

// builtin returns the built-in artifact called name, if there is one.
func builtin(name string) (*Artifact, bool) {
	a, ok := builtins()[name]
	return a, ok
}

// sortByName puts artifacts in the order every listing uses.
func sortByName(list []*Artifact) {
	slices.SortFunc(list, func(a, b *Artifact) int { return strings.Compare(a.Name, b.Name) })
}
