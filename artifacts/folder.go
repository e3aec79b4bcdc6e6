package artifacts

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Why a file of the definitions folder is not loaded: the reasons LoadDir
// counts, so that a user with a large library sees what kind of problem
// keeps how many artifacts out.
const (
	// ReasonInvalid: the file cannot be read or is not a valid definition.
	ReasonInvalid = "invalid definition"
	// ReasonBuiltinType: the file takes a built-in's name with another type.
	ReasonBuiltinType = "built-in name, other type"
	// ReasonDuplicate: another file (or an earlier LoadDir) defines the name.
	ReasonDuplicate = "name defined twice"
	// ReasonVQL: the check refused the artifact's VQL.
	ReasonVQL = "VQL problems"
	// ReasonImport: the artifact imports one that is not loaded.
	ReasonImport = "imports one not loaded"
)

// LoadReport says what LoadDir made of a definitions folder.
type LoadReport struct {
	// Files is the number of definition files found.
	Files int
	// Loaded is the number of artifacts now in the repository from them.
	Loaded int
	// Replaced names the built-in artifacts a file redefined.
	Replaced []string
	// Skipped are the files left out, each with its reason and problems.
	Skipped []*NotLoaded
}

// Summary is the one-line account `--definitions` prints.
func (r *LoadReport) Summary() string {
	s := fmt.Sprintf("definitions: %d of %d artifacts loaded", r.Loaded, r.Files)
	if len(r.Replaced) > 0 {
		s += fmt.Sprintf(" (%d replace built-ins)", len(r.Replaced))
	}
	if len(r.Skipped) == 0 {
		return s
	}
	count := map[string]int{}
	var order []string
	for _, n := range r.Skipped {
		if count[n.Reason] == 0 {
			order = append(order, n.Reason)
		}
		count[n.Reason]++
	}
	parts := make([]string, len(order))
	for i, reason := range order {
		parts[i] = fmt.Sprintf("%d %s", count[reason], reason)
	}
	return s + fmt.Sprintf("; %d not loaded (%s; see the warnings)", len(r.Skipped), strings.Join(parts, ", "))
}

// LoadDir reads every *.yaml and *.yml file below dir, at any depth, as a
// definition visible in every org.
//
// A problem in one file does not stop the others: a library written for
// Velociraptor must stay usable when some of its artifacts are not for
// vqlq. A file that cannot be read or is not a valid definition, one that
// takes the name of another file's definition (including one from an
// earlier LoadDir) or of a built-in of another type, and one whose VQL the
// repository's checker refuses (see SetChecker) is left out and returned
// in the report's Skipped, with its problems at file and line; the
// repository remembers it, so that naming it says why it is missing
// (Missing). A file that takes a built-in's name with the built-in's type
// replaces the built-in's definition. The caller shows the report.
//
// The error is only for a folder that cannot be walked.
func (r *Repository) LoadDir(dir string) (*LoadReport, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isDefinitionFile(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the definitions folder: %w", err)
	}
	report := &LoadReport{Files: len(files)}
	skip := func(n *NotLoaded) { report.Skipped = append(report.Skipped, n) }

	r.write.Lock()
	defer r.write.Unlock()
	r.mu.RLock()
	seen := map[string]*folderArtifact{}
	for name, f := range r.folder {
		seen[name] = f
	}
	r.mu.RUnlock()
	var read []*folderArtifact
	for _, file := range files {
		f, n := readDefinition(file, seen)
		if n != nil {
			skip(n)
			continue
		}
		seen[f.artifact.Name] = f
		read = append(read, f)
	}
	exportOf := func(name string) (string, bool) {
		if f, ok := seen[name]; ok {
			return f.artifact.Export, true
		}
		b, ok := builtin(name)
		if !ok {
			return "", false
		}
		return b.Export, true
	}
	var loaded []*folderArtifact
	for _, f := range read {
		if err := checkArtifact(r.check, f.artifact, f.file, exportOf); err != nil {
			skip(&NotLoaded{Name: f.artifact.Name, File: f.file, Reason: ReasonVQL, Problems: leaves(err)})
			continue
		}
		loaded = append(loaded, f)
	}
	loaded = r.withoutBrokenImports(loaded, report)
	for _, f := range loaded {
		if _, ok := builtin(f.artifact.Name); ok {
			report.Replaced = append(report.Replaced, f.artifact.Name)
		}
	}
	report.Loaded = len(loaded)

	r.mu.Lock()
	for _, n := range report.Skipped {
		if n.Name != "" && r.folder[n.Name] == nil {
			r.notLoaded[n.Name] = n
		}
	}
	for _, f := range loaded {
		r.folder[f.artifact.Name] = f
		delete(r.notLoaded, f.artifact.Name)
	}
	r.mu.Unlock()
	return report, nil
}

// readDefinition reads and parses one file of the folder, and refuses it
// when its name is taken (seen holds the folder's names so far) or is a
// built-in's of another type.
func readDefinition(file string, seen map[string]*folderArtifact) (*folderArtifact, *NotLoaded) {
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, &NotLoaded{File: file, Reason: ReasonInvalid, Problems: []error{err}}
	}
	a, err := Parse(text, file)
	if err != nil {
		return nil, &NotLoaded{Name: nameOf(text), File: file, Reason: ReasonInvalid, Problems: []error{err}}
	}
	if b, ok := builtin(a.Name); ok && b.Type != a.Type {
		return nil, &NotLoaded{Name: a.Name, File: file, Reason: ReasonBuiltinType, Problems: []error{&DefinitionError{
			File: file, Line: a.nameLine,
			Msg: fmt.Sprintf("%s is a built-in %s artifact; a definition of type %s cannot replace it", a.Name, b.Type, a.Type)}}}
	}
	if first, ok := seen[a.Name]; ok {
		return nil, &NotLoaded{Name: a.Name, File: file, Reason: ReasonDuplicate, Problems: []error{&DefinitionError{
			File: file, Line: a.nameLine,
			Msg: fmt.Sprintf("artifact %s is also defined in %s:%d", a.Name, first.file, first.artifact.nameLine)}}}
	}
	return &folderArtifact{artifact: a, file: file}, nil
}

// nameLinePattern finds a top-level name field in text that is not valid
// YAML.
var nameLinePattern = regexp.MustCompile(`(?m)^name:[ \t]*([A-Za-z0-9_.]+)[ \t]*\r?$`)

// nameOf reads the name of a definition that does not parse, if it holds
// one, so that naming the artifact says why it is missing.
func nameOf(text []byte) string {
	var doc struct {
		Name string `yaml:"name"`
	}
	if yaml.Unmarshal(text, &doc) != nil {
		if m := nameLinePattern.FindSubmatch(text); m != nil {
			doc.Name = string(m[1])
		}
	}
	if !namePattern.MatchString(doc.Name) {
		return ""
	}
	return doc.Name
}

// isDefinitionFile says whether a folder entry is read as a definition.
func isDefinitionFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// withoutBrokenImports leaves out, into report.Skipped, each artifact that
// imports one this load left out (and that nothing else of that name
// provides: an earlier folder, a built-in), then each that imports one of
// those, and so on: its sources would fail on their first run. It
// returns the rest. The caller holds r.write.
func (r *Repository) withoutBrokenImports(loaded []*folderArtifact, report *LoadReport) []*folderArtifact {
	notLoaded := map[string]*NotLoaded{}
	for _, n := range report.Skipped {
		if n.Name == "" || r.folder[n.Name] != nil {
			continue
		}
		if _, ok := builtin(n.Name); !ok {
			notLoaded[n.Name] = n
		}
	}
	for changed := true; changed; {
		changed = false
		kept := loaded[:0]
		for _, f := range loaded {
			if n := brokenImport(f, notLoaded); n != nil {
				report.Skipped = append(report.Skipped, n)
				notLoaded[n.Name] = n
				changed = true
				continue
			}
			kept = append(kept, f)
		}
		loaded = kept
	}
	return loaded
}

// brokenImport is f left out for its first import that is not loaded, or
// nil.
func brokenImport(f *folderArtifact, notLoaded map[string]*NotLoaded) *NotLoaded {
	if !f.artifact.RunsOnServer() {
		return nil
	}
	for _, name := range f.artifact.Imports {
		if n := notLoaded[name]; n != nil {
			return &NotLoaded{Name: f.artifact.Name, File: f.file, Reason: ReasonImport, Problems: []error{&DefinitionError{
				File: f.file, Line: f.artifact.importsLine,
				Msg: fmt.Sprintf("imports %s, which is not loaded (%s, %s)", name, n.Reason, n.File)}}}
		}
	}
	return nil
}
