package parser

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/internal/sharedfolder"
	"github.com/vqlq/vqlq/vql/source"
)

// velociraptorArtifacts returns the folder of Velociraptor's artifact
// library used as test input: $VQLQ_VELOCIRAPTOR_DIR/artifacts, or
// velociraptor/artifacts in the shared folder. It skips the test, saying
// where it looked, when neither is there.
func velociraptorArtifacts(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("VQLQ_VELOCIRAPTOR_DIR"); dir != "" {
		p := filepath.Join(dir, "artifacts")
		if _, err := os.Stat(p); err != nil {
			t.Skipf("Velociraptor artifacts not found in %s (from VQLQ_VELOCIRAPTOR_DIR)", p)
		}
		return p
	}
	p, tried, ok := sharedfolder.Find("velociraptor/artifacts")
	if !ok {
		t.Skipf("shared/velociraptor/artifacts not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR or VQLQ_SHARED_DIR)", strings.Join(tried, ", "))
	}
	return p
}

// vqlText is one VQL text of an artifact file: where it is (the YAML node
// of the text, so an error can be placed in the file) and what it is.
type vqlText struct {
	what string
	node *yaml.Node
}

// artifactTexts collects the VQL of an artifact document: the artifact's
// precondition and export, each source's precondition and query, and the
// VQL cells of notebooks (the artifact's and its sources').
func artifactTexts(doc *yaml.Node) []vqlText {
	var out []vqlText
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	add := func(what string, n *yaml.Node) {
		if n != nil && n.Kind == yaml.ScalarNode && strings.TrimSpace(n.Value) != "" {
			out = append(out, vqlText{what: what, node: n})
		}
	}
	notebook := func(prefix string, nb *yaml.Node) {
		for i, cell := range seq(nb) {
			if strings.HasPrefix(strings.ToLower(scalar(field(cell, "type"))), "vql") {
				add(prefix+"notebook["+strconv.Itoa(i)+"]", field(cell, "template"))
			}
		}
	}
	add("precondition", field(root, "precondition"))
	add("export", field(root, "export"))
	notebook("", field(root, "notebook"))
	for i, src := range seq(field(root, "sources")) {
		p := "sources[" + strconv.Itoa(i) + "]."
		add(p+"precondition", field(src, "precondition"))
		add(p+"query", field(src, "query"))
		notebook(p, field(src, "notebook"))
	}
	return out
}

// scalar is the text of a scalar node, "" when there is none.
func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// fileLine places an error of a VQL text in its artifact file: a block
// scalar (`query: |`) starts on the line after its key, indented.
func fileLine(n *yaml.Node, se *source.Error) int {
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		return n.Line + se.Pos.Line
	}
	return n.Line + se.Pos.Line - 1
}

// TestVelociraptorArtifactsParse parses every VQL text of the shared
// Velociraptor artifacts and lists each one that does not parse with its
// file and position; a last line gives the totals.
func TestVelociraptorArtifactsParse(t *testing.T) {
	dir := velociraptorArtifacts(t)
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no artifact files under %s", dir)
	}
	texts, failed := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Errorf("%s: not YAML: %v", rel, err)
			continue
		}
		for _, q := range artifactTexts(&doc) {
			texts++
			if _, err := Parse(q.node.Value, rel); err != nil {
				failed++
				var se *source.Error
				if errors.As(err, &se) {
					t.Errorf("%s:%d: %s: %s (at %d:%d of the text)", rel, fileLine(q.node, se), q.what, se.Msg, se.Pos.Line, se.Pos.Column)
				} else {
					t.Errorf("%s: %s: %v", rel, q.what, err)
				}
			}
		}
	}
	if texts == 0 {
		t.Fatalf("no VQL found in %d artifact files under %s", len(files), dir)
	}
	t.Logf("velociraptor-artifacts: %d files, %d VQL texts, %d do not parse", len(files), texts, failed)
}
