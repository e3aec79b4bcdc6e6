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
// definition visible in every org; the VQL of each is judged by the
// repository's checker (see SetChecker). It checks them all before adding any:
// on error nothing is added, and the error lists every problem with its
// file and line. A folder definition may not use a built-in's name, nor
// the name of another folder definition (including one from an earlier
// LoadDir).
func (r *Repository) LoadDir(dir string) error {
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
		return fmt.Errorf("reading the definitions folder: %w", err)
	}

	r.write.Lock()
	check := r.check
	r.write.Unlock()
	var problems []error
	var loaded []*folderArtifact
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		a, err := Parse(text, file)
		if err == nil {
			err = checkArtifact(check, a, file)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		loaded = append(loaded, &folderArtifact{artifact: a, file: file})
	}

	r.write.Lock()
	defer r.write.Unlock()
	r.mu.RLock()
	seen := map[string]*folderArtifact{}
	for name, f := range r.folder {
		seen[name] = f
	}
	r.mu.RUnlock()
	for _, f := range loaded {
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
		return errors.Join(problems...)
	}
	r.mu.Lock()
	for _, f := range loaded {
		r.folder[f.artifact.Name] = f
	}
	r.mu.Unlock()
	return nil
}

// isDefinitionFile says whether a folder entry is read as a definition.
func isDefinitionFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}
