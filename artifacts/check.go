package artifacts

import (
	"errors"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/vql/source"
)

// Checker judges one VQL text of an artifact (its precondition or export,
// a source's query or precondition) before the artifact is accepted.
// prelude are the VQL texts that run before it in the same scope (the
// exports of the artifacts it imports, then its own export), whose LETs
// the text may use. It returns nil, or the problems as *source.Error
// values (alone, joined, or in any error that unwraps to them) positioned
// within the VQL text; the repository moves them to the definition's line
// and column. The engine supplies it (see plugins.ArtifactChecker): this
// package knows no plugins.
type Checker func(a *Artifact, prelude []string, vql string) error

// SetChecker makes the repository check the VQL of every artifact that
// RunsOnServer when it is set or loaded from the definitions folder; an
// artifact with problems is refused by Set with all of them, and left
// out by LoadDir (see NotLoaded). Definitions read
// back from storage were checked when they were set and are not judged
// again.
func (r *Repository) SetChecker(c Checker) {
	r.write.Lock()
	r.check = c
	r.write.Unlock()
}

// textAt is where a VQL text starts in its definition, and how its lines
// map onto the definition's: a block scalar (`query: |`) starts on the
// line after its key, indented; any other scalar starts at its node.
type textAt struct {
	line, column int
	block        bool
}

func locate(n *yaml.Node) textAt {
	n = deref(n)
	at := textAt{line: n.Line, column: n.Column}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		at.block = true
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		at.column++ // the opening quote
	}
	return at
}

// checkArtifact runs check on every VQL text of a and returns every
// problem, positioned in the definition's text and named by file.
// exportOf finds the export of an artifact a imports.
func checkArtifact(check Checker, a *Artifact, file string, exportOf func(name string) (string, bool)) error {
	if check == nil || !a.RunsOnServer() {
		return nil
	}
	return checkTexts(check, a, file, exportOf)
}

// Verify runs check on every VQL text of a, whatever its type, and returns
// each problem found (nil when there is none): *source.Error values
// placed at their line and column in a's definition, and
// *DefinitionError for imports of artifacts exportOf does not know. It is
// the check a server-side artifact passes before it is accepted, for
// callers that judge an artifact without setting it (verify()).
func Verify(check Checker, a *Artifact, exportOf func(name string) (string, bool)) []error {
	if err := checkTexts(check, a, "", exportOf); err != nil {
		return leaves(err)
	}
	return nil
}

func checkTexts(check Checker, a *Artifact, file string, exportOf func(name string) (string, bool)) error {
	prelude, problems := imported(a, file, exportOf)
	type text struct {
		vql     string
		at      textAt
		prelude []string
	}
	texts := []text{{a.Export, a.exportAt, prelude}}
	if a.Export != "" {
		prelude = append(prelude, a.Export)
	}
	texts = append(texts, text{a.Precondition, a.preconditionAt, prelude})
	for _, src := range a.Sources {
		texts = append(texts, text{src.Precondition, src.preconditionAt, prelude}, text{src.Query, src.queryAt, prelude})
	}
	for _, t := range texts {
		if strings.TrimSpace(t.vql) == "" {
			continue
		}
		if err := check(a, t.prelude, t.vql); err != nil {
			problems = append(problems, place(err, a.Text, file, t.at)...)
		}
	}
	return errors.Join(problems...)
}

// imported returns the exports of the artifacts a imports, in order, and
// a problem for each import that names no artifact.
func imported(a *Artifact, file string, exportOf func(name string) (string, bool)) (exports []string, problems []error) {
	for _, name := range a.Imports {
		exp, ok := exportOf(name)
		if !ok {
			problems = append(problems, &DefinitionError{File: file, Line: a.importsLine,
				Msg: "imports unknown artifact " + name})
			continue
		}
		if exp != "" {
			exports = append(exports, exp)
		}
	}
	return exports, problems
}

// place moves the positions of err's problems from the VQL text into the
// definition.
func place(err error, definition, file string, at textAt) []error {
	var out []error
	for _, e := range leaves(err) {
		var se *source.Error
		if !errors.As(e, &se) {
			out = append(out, &DefinitionError{File: file, Line: at.line, Msg: e.Error()})
			continue
		}
		moved := *se
		moved.File, moved.Text = file, definition
		moved.Pos = at.shift(definition, se.Pos)
		out = append(out, &moved)
	}
	return out
}

// shift maps a position in the VQL text to the definition.
func (at textAt) shift(definition string, p source.Pos) source.Pos {
	if !at.block {
		if p.Line == 1 {
			p.Column += at.column - 1
		}
		p.Line += at.line - 1
	} else {
		// The block's lines follow its key's line; the block's
		// indentation is that of its first line with text.
		p.Line += at.line
		p.Column += blockIndent(definition, at.line)
	}
	p.Offset = offsetOf(definition, p.Line, p.Column)
	return p
}

// offsetOf is the byte offset of line:column in text.
func offsetOf(text string, line, column int) int {
	off := 0
	for i := 1; i < line; i++ {
		nl := strings.IndexByte(text[off:], '\n')
		if nl < 0 {
			return len(text)
		}
		off += nl + 1
	}
	return min(off+column-1, len(text))
}

// blockIndent is the indentation of the first non-blank line after line
// keyLine of text.
func blockIndent(text string, keyLine int) int {
	lines := strings.Split(text, "\n")
	for i := keyLine; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		return len(l) - len(strings.TrimLeft(l, " "))
	}
	return 0
}

// leaves flattens an error tree (errors.Join, wrappers with Unwrap() []error)
// into the errors it holds; a single error is its own leaf.
func leaves(err error) []error {
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range multi.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}
