package artifacts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vqlq/vqlq/internal/suggest"
	"github.com/vqlq/vqlq/vql"
)

// The fields a definition may hold, in the order error messages list them.
// Anything else is refused rather than ignored, so that a typo does not
// silently drop a query or a parameter.
//
// They are the fields of Velociraptor's artifact format, so that a library
// written for it loads as it is; `references` is read as `reference`.
var (
	artifactFields = []string{"name", "description", "type", "author", "reference", "references",
		"parameters", "sources", "column_types", "precondition", "export", "imports", "tools", "reports",
		"required_permissions", "implied_permissions", "resources", "aliases", "impersonate"}
	parameterFields = []string{"name", "default", "description", "type", "friendly_name",
		"validating_regex", "artifact_type", "choices"}
	sourceFields = []string{"name", "description", "query", "queries", "precondition", "notebook"}
)

// namePattern is what artifact and source names look like: dotted parts of
// letters, digits and underscores. Names become queue names and plugin
// names (Artifact.Custom.Name), so nothing else is allowed in them.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)

// Parse reads one artifact definition. file names the text's origin in
// error messages (empty for text given at run time). Every problem is
// returned as a *DefinitionError carrying the line; Parse never panics.
func Parse(text []byte, file string) (a *Artifact, err error) {
	p := &parser{file: file}
	defer func() {
		// The YAML library is not ours; whatever it does, a bad
		// definition must come back as an error, not a crash.
		if r := recover(); r != nil {
			a, err = nil, p.errorf(0, "cannot read the definition: %v", r)
		}
	}()
	root, err := p.document(text)
	if err != nil {
		return nil, err
	}
	a, err = p.artifact(root)
	if err != nil {
		return nil, err
	}
	a.Text = string(text)
	return a, nil
}

// parser holds what every error message needs.
type parser struct {
	file string
}

func (p *parser) errorf(line int, format string, args ...any) *DefinitionError {
	return &DefinitionError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// document returns the root node of the one YAML document in text. Empty
// documents (a stray "---") are skipped; a second non-empty one is an
// error, since a definition holds one artifact.
func (p *parser) document(text []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var root *yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, p.syntaxError(text, err)
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue
		}
		if root != nil {
			return nil, p.errorf(doc.Content[0].Line, "a second YAML document starts here; a definition holds one artifact")
		}
		root = doc.Content[0]
	}
	if root == nil {
		return nil, p.errorf(1, "empty definition: expected a mapping with at least a name field")
	}
	return root, nil
}

// yamlLinePrefix is how the YAML library puts a line into its messages.
var yamlLinePrefix = regexp.MustCompile(`^line [0-9]+: `)

// yamlMessage strips the library's "yaml: " and "line N: " prefixes: the
// line is reported by us, in the file:line form.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLinePrefix.ReplaceAllString(msg, "")
}

// syntaxError turns a YAML library error into a DefinitionError. The
// library omits the line for some errors and, for others, names the line
// where the enclosing construct began; so the line is found by looking for
// the shortest run of leading lines that fails with the same message.
func (p *parser) syntaxError(text []byte, err error) error {
	msg := yamlMessage(err)
	lines := bytes.SplitAfter(text, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	prefixFails := func(n int) bool {
		prefix := bytes.Join(lines[:n], nil)
		dec := yaml.NewDecoder(bytes.NewReader(prefix))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == nil {
				continue
			}
			return !errors.Is(err, io.EOF) && yamlMessage(err) == msg
		}
	}
	// The whole text fails with msg; find the smallest n that does too.
	lo, hi := 1, max(len(lines), 1)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if prefixFails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return p.errorf(lo, "invalid YAML: %s", msg)
}

// artifact reads the top-level mapping.
func (p *parser) artifact(root *yaml.Node) (*Artifact, error) {
	a := &Artifact{Type: TypeClient}
	haveName := false
	err := p.fields(root, "", artifactFields, func(key string, val *yaml.Node) error {
		var err error
		switch key {
		case "name":
			a.Name, err = p.text(val, `field "name"`)
			if err == nil {
				haveName, a.nameLine = true, deref(val).Line
				err = p.checkName(val, a.Name, "artifact")
			}
		case "description":
			a.Description, err = p.text(val, `field "description"`)
		case "author":
			a.Author, err = p.text(val, `field "author"`)
		case "type":
			a.Type, err = p.artifactType(val)
		case "reference", "references":
			var refs []string
			refs, err = p.texts(val, key)
			a.Reference = append(a.Reference, refs...)
		case "precondition":
			a.Precondition, err = p.text(val, `field "precondition"`)
			a.preconditionAt = locate(val)
		case "export":
			a.Export, err = p.text(val, `field "export"`)
			a.exportAt = locate(val)
		case "imports":
			a.Imports, err = p.texts(val, key)
			a.importsLine = deref(val).Line
		case "aliases":
			a.Aliases, err = p.texts(val, key)
		case "required_permissions":
			a.RequiredPermissions, err = p.permissions(val, key)
		case "implied_permissions":
			a.ImpliedPermissions, err = p.permissions(val, key)
		case "impersonate":
			a.Impersonate, err = p.text(val, `field "impersonate"`)
		case "tools":
			a.Tools, err = p.decodedList(val, key)
		case "reports":
			a.Reports, err = p.decodedList(val, key)
		case "resources":
			a.Resources, err = p.decoded(val, key)
		case "parameters":
			a.Parameters, err = p.parameters(val)
		case "sources":
			a.Sources, err = p.sources(val)
		case "column_types":
			a.ColumnTypes, err = p.decodedList(val, key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !haveName {
		return nil, p.errorf(root.Line, `missing required field "name"`)
	}
	if a.IsEvent() {
		for _, src := range a.Sources {
			if src.Name != "" && !namePattern.MatchString(src.Name) {
				return nil, p.errorf(src.nameLine, "invalid source name %q: an event artifact's source names a queue (%s/%s), so it is dot-separated parts of letters, digits and underscores", src.Name, a.Name, src.Name)
			}
		}
	}
	return a, nil
}

// fields walks a mapping, refusing unknown and repeated keys, and calls fn
// for each known one in the order written. where says which mapping it is
// (" in parameter", " in source") for the messages.
func (p *parser) fields(n *yaml.Node, where string, known []string, fn func(key string, val *yaml.Node) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		what := "an artifact definition"
		if where != "" {
			what = "each" + strings.TrimPrefix(where, " in")
		}
		return p.errorf(n.Line, "%s must be a mapping of fields, not %s", what, kindName(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errorf(k.Line, "field names must be plain text, not %s", kindName(k))
		}
		if !slices.Contains(known, k.Value) {
			if best := suggest.Closest(k.Value, known); best != "" {
				return p.errorf(k.Line, "unknown field %q%s (did you mean %s?)", k.Value, where, best)
			}
			return p.errorf(k.Line, "unknown field %q%s (known fields: %s)", k.Value, where, strings.Join(known, ", "))
		}
		if first, ok := seen[k.Value]; ok {
			return p.errorf(k.Line, "field %q%s given twice (first at line %d)", k.Value, where, first)
		}
		seen[k.Value] = k.Line
		if err := fn(k.Value, v); err != nil {
			return err
		}
	}
	return nil
}

// text reads a scalar as written; null is the empty string. Numbers and
// booleans are kept in their written form, since definitions are text.
func (p *parser) text(n *yaml.Node, what string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", p.errorf(n.Line, "%s must be text, not %s", what, kindName(n))
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}

// checkName refuses names that cannot serve as queue or plugin names.
func (p *parser) checkName(n *yaml.Node, name, what string) error {
	if name == "" {
		return p.errorf(deref(n).Line, "the %s name is empty", what)
	}
	if !namePattern.MatchString(name) {
		return p.errorf(deref(n).Line, "invalid %s name %q: expected dot-separated parts of letters, digits and underscores, like Custom.Events.Receive", what, name)
	}
	return nil
}

// artifactType accepts the type in any case; an empty type means the
// default, CLIENT.
func (p *parser) artifactType(n *yaml.Node) (Type, error) {
	s, err := p.text(n, `field "type"`)
	if err != nil {
		return "", err
	}
	if s == "" {
		return TypeClient, nil
	}
	t := Type(strings.ToUpper(s))
	if !slices.Contains(allTypes, t) {
		names := make([]string, len(allTypes))
		for i, t := range allTypes {
			names[i] = string(t)
		}
		return "", p.errorf(deref(n).Line, "invalid type %q (allowed: %s, in any case)", s, strings.Join(names, ", "))
	}
	return t, nil
}

// list returns the items of a sequence; null is an empty list.
func (p *parser) list(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n.Line, "field %q must be a list, not %s", what, kindName(n))
	}
	return n.Content, nil
}

// texts reads a list of text items (reference, imports, aliases, ...).
func (p *parser) texts(n *yaml.Node, field string) ([]string, error) {
	return p.checkedTexts(n, field, nil)
}

// permissions reads a list of Velociraptor permission names: a misspelt
// one is refused at its line, since a permission nobody can hold would
// refuse the artifact to everyone but admins.
func (p *parser) permissions(n *yaml.Node, field string) ([]string, error) {
	return p.checkedTexts(n, field, func(s string) (string, error) {
		perm, err := vql.ParsePermission(s)
		return string(perm), err
	})
}

// checkedTexts reads a list of strings, each passed through check (when
// not nil), whose error is reported at the item's line.
func (p *parser) checkedTexts(n *yaml.Node, field string, check func(string) (string, error)) ([]string, error) {
	items, err := p.list(n, field)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		s, err := p.text(item, `each item of "`+field+`"`)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if s, err = check(s); err != nil {
				return nil, p.errorf(deref(item).Line, "%s: %v", field, err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) parameters(n *yaml.Node) ([]Parameter, error) {
	items, err := p.list(n, "parameters")
	if err != nil || len(items) == 0 {
		return nil, err
	}
	params := make([]Parameter, 0, len(items))
	lines := map[string]int{}
	for _, item := range items {
		var prm Parameter
		haveName, defaultLine := false, deref(item).Line
		err := p.fields(item, " in parameter", parameterFields, func(key string, val *yaml.Node) error {
			var err error
			switch key {
			case "name":
				prm.Name, err = p.text(val, `parameter field "name"`)
				haveName = err == nil
			case "default":
				prm.Default, err = p.text(val, `parameter field "default"`)
				defaultLine = deref(val).Line
			case "description":
				prm.Description, err = p.text(val, `parameter field "description"`)
			case "type":
				prm.Type, err = p.text(val, `parameter field "type"`)
			case "friendly_name":
				prm.FriendlyName, err = p.text(val, `parameter field "friendly_name"`)
			case "artifact_type":
				prm.ArtifactType, err = p.text(val, `parameter field "artifact_type"`)
			case "choices":
				prm.Choices, err = p.texts(val, "choices")
			case "validating_regex":
				prm.ValidatingRegex, err = p.text(val, `parameter field "validating_regex"`)
				if err == nil {
					if _, rerr := regexp.Compile(prm.ValidatingRegex); rerr != nil {
						err = p.errorf(deref(val).Line, "parameter field \"validating_regex\": %v", rerr)
					}
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		line := deref(item).Line
		if !haveName || prm.Name == "" {
			return nil, p.errorf(line, `missing required field "name" in parameter`)
		}
		// A default its own type refuses would fail every run.
		if _, err := prm.Convert(prm.Default); err != nil {
			return nil, p.errorf(defaultLine, "parameter %s: default: %v", prm.Name, err)
		}
		if first, ok := lines[prm.Name]; ok {
			return nil, p.errorf(line, "parameter %q defined twice (first at line %d)", prm.Name, first)
		}
		lines[prm.Name] = line
		params = append(params, prm)
	}
	return params, nil
}

func (p *parser) sources(n *yaml.Node) ([]Source, error) {
	items, err := p.list(n, "sources")
	if err != nil || len(items) == 0 {
		return nil, err
	}
	sources := make([]Source, 0, len(items))
	lines := map[string]int{}
	for _, item := range items {
		var src Source
		haveQuery := false
		err := p.fields(item, " in source", sourceFields, func(key string, val *yaml.Node) error {
			var err error
			switch key {
			case "name":
				// Checked once the type is known: only event
				// artifacts' source names become queue names.
				src.Name, err = p.text(val, `source field "name"`)
				src.nameLine = deref(val).Line
			case "description":
				src.Description, err = p.text(val, `source field "description"`)
			case "query":
				src.Query, err = p.text(val, `source field "query"`)
				haveQuery = err == nil
				src.queryAt = locate(val)
			case "queries":
				// The older form: a list of VQL texts run in turn.
				var qs []*yaml.Node
				if qs, err = p.list(val, "queries"); err == nil && len(qs) > 0 {
					var texts []string
					texts, err = p.texts(val, "queries")
					src.Query, haveQuery, src.queryAt = strings.Join(texts, "\n"), true, locate(qs[0])
				}
			case "notebook":
				src.Notebook, err = p.decodedList(val, "notebook")
			case "precondition":
				src.Precondition, err = p.text(val, `source field "precondition"`)
				src.preconditionAt = locate(val)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		line := deref(item).Line
		// A source of notebook cells alone has nothing to run.
		if (!haveQuery || strings.TrimSpace(src.Query) == "") && len(src.Notebook) == 0 {
			return nil, p.errorf(line, `missing required field "query" in source`)
		}
		if src.Name != "" {
			if first, ok := lines[src.Name]; ok {
				return nil, p.errorf(line, "source %q defined twice (first at line %d)", src.Name, first)
			}
			lines[src.Name] = line
		}
		sources = append(sources, src)
	}
	return sources, nil
}

// decodedList decodes each item of a list into plain Go values (maps,
// slices, scalars) without interpreting them: fields vqlq carries for the
// callers that display them (column_types, tools, reports, notebook).
func (p *parser) decodedList(n *yaml.Node, field string) ([]any, error) {
	items, err := p.list(n, field)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	out := make([]any, 0, len(items))
	for _, item := range items {
		v, err := p.decoded(item, field)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// decoded decodes one node into plain Go values.
func (p *parser) decoded(n *yaml.Node, field string) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, p.errorf(deref(n).Line, "field %q: %s", field, yamlMessage(err))
	}
	return v, nil
}

// deref follows aliases (*name) to the node they stand for. An alias
// cannot itself carry an anchor, so one step is enough; the bound guards
// against a library that thinks otherwise.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName says what a node is, in the words a definition's author uses.
func kindName(n *yaml.Node) string {
	switch deref(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "text"
	case yaml.AliasNode:
		return "an alias"
	}
	return "node kind " + strconv.Itoa(int(n.Kind))
}
