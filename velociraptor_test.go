package vqlq_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/sharedfolder"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql/source"
)

// velociraptorArtifacts is Velociraptor's artifact library (test input,
// never copied into the repository), or the test skips saying where it
// looked.
func velociraptorArtifacts(t *testing.T) string {
	if dir := os.Getenv("VQLQ_VELOCIRAPTOR_DIR"); dir != "" {
		return filepath.Join(dir, "artifacts")
	}
	p, tried, ok := sharedfolder.Find("velociraptor/artifacts")
	if !ok {
		t.Skipf("shared/velociraptor/artifacts not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", strings.Join(tried, ", "))
	}
	return p
}

// TestVelociraptorServerArtifactsDoNotRefuseTheFolder: a folder of
// Velociraptor's server-side artifacts (those that are valid definitions
// for vqlq and do not take a built-in's name) opens although most use
// plugins vqlq lacks: each such artifact is left out with its problems at
// file:line:col, and the others load. The figures are logged (-v).
func TestVelociraptorServerArtifactsDoNotRefuseTheFolder(t *testing.T) {
	lib := velociraptorArtifacts(t)
	builtin := map[string]bool{}
	for _, a := range artifacts.Builtins() {
		builtin[a.Name] = true
	}
	folder := t.TempDir()
	files, invalid, named, kept := 0, 0, 0, 0
	err := filepath.WalkDir(lib, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		files++
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		a, err := artifacts.Parse(text, path)
		switch {
		case err != nil:
			invalid++
		case !a.RunsOnServer():
		case builtin[a.Name]:
			named++
		default:
			kept++
			rel, _ := filepath.Rel(lib, path)
			dst := filepath.Join(folder, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			return os.WriteFile(dst, text, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if kept == 0 {
		t.Fatalf("no server-side artifact among %d files of %s", files, lib)
	}
	repo := artifacts.NewRepository(nil)
	repo.SetChecker(plugins.ArtifactChecker((&runner.Backend{Flags: &runner.StoreFlags{}}).Engine()))
	skipped, err := repo.LoadDir(folder)
	if err != nil {
		t.Fatalf("the folder was refused: %v", err)
	}
	for _, n := range skipped {
		for _, p := range n.Problems {
			var se *source.Error
			if !errors.As(p, &se) || se.File != n.File || !se.Pos.IsValid() || !strings.HasPrefix(n.File, folder) {
				t.Errorf("%s: a problem without its file, line and column: %v", n.Name, p)
			}
		}
	}
	loaded := len(repo.List("root")) - len(artifacts.Builtins())
	if loaded+len(skipped) != kept {
		t.Errorf("%d loaded + %d skipped, want the %d server-side artifacts", loaded, len(skipped), kept)
	}
	t.Logf("%d files: %d not valid definitions for vqlq, %d take a built-in's name; of %d server-side artifacts, %d load and %d are skipped", files, invalid, named, kept, loaded, len(skipped))
}
