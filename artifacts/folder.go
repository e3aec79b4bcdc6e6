package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadDir reads every *.yaml and *.yml file below dir, at any depth, as a
// definition visible in every org.
//
// A file that cannot be read or is not a valid definition refuses the
// folder: nothing is added, and the error lists every such problem with
// its file and line. So does a folder definition that uses a built-in's
// name or the name of another folder definition (including one from an
// earlier LoadDir).
//
// An artifact whose VQL the repository's checker refuses (see SetChecker)
// does not refuse the folder: a library written for Velociraptor has
// server artifacts that use plugins vqlq lacks, and the others must stay
// usable. It is left out and returned in skipped, with its problems; the
// repository remembers it, so that naming it says why it is missing
// (Missing). The caller shows skipped to the user.
func (r *Repository) LoadDir(dir string) (skipped []*NotLoaded, err error) {
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
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

	r.write.Lock()
	check := r.check
	r.write.Unlock()
	var problems []error
	var read []*folderArtifact
	refused := map[*folderArtifact]*NotLoaded{}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		a, err := Parse(text, file)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		f := &folderArtifact{artifact: a, file: file}
		read = append(read, f)
		if err := checkArtifact(check, a, file); err != nil {
			refused[f] = &NotLoaded{Name: a.Name, File: file, Problems: leaves(err)}
		}
	}

	r.write.Lock()
	defer r.write.Unlock()
	r.mu.RLock()
	seen := map[string]*folderArtifact{}
	for name, f := range r.folder {
		seen[name] = f
	}
	r.mu.RUnlock()
	for _, f := range read {
		a := f.artifact
		if _, ok := builtin(a.Name); ok {
			problems = append(problems, &DefinitionError{File: f.file, Line: a.nameLine,
				Msg: "a user definition cannot replace built-in artifact " + a.Name})
			continue
		}
		if first, ok := seen[a.Name]; ok {
			problems = append(problems, &DefinitionError{File: f.file, Line: a.nameLine,
				Msg: fmt.Sprintf("artifact %s is also defined in %s:%d", a.Name, first.file, first.artifact.nameLine)})
			continue
		}
		seen[a.Name] = f
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	r.mu.Lock()
	for _, f := range read {
		if n := refused[f]; n != nil {
			r.notLoaded[n.Name] = n
			skipped = append(skipped, n)
			continue
		}
		r.folder[f.artifact.Name] = f
		delete(r.notLoaded, f.artifact.Name)
	}
	r.mu.Unlock()
	return skipped, nil
}

// isDefinitionFile says whether a folder entry is read as a definition.
func isDefinitionFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}
