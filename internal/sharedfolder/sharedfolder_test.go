package sharedfolder

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "shared", "spec"), 0o755)
	os.WriteFile(filepath.Join(root, "shared", "spec", "x.json"), []byte("{}"), 0o644)
	repo := filepath.Join(root, "main", "pkg")
	os.MkdirAll(repo, 0o755)
	t.Chdir(repo)
	t.Setenv("VQLQ_SHARED_DIR", "")
	if p, _, ok := Find("spec/x.json"); !ok || p != filepath.Join(root, "shared", "spec", "x.json") {
		t.Errorf("beside an ancestor: %q %v", p, ok)
	}
	if _, tried, ok := Find("spec/missing.json"); ok || len(tried) < 3 {
		t.Errorf("missing: %v %v", tried, ok)
	}
	t.Setenv("VQLQ_SHARED_DIR", filepath.Join(root, "shared"))
	if p, _, ok := Find("spec/x.json"); !ok || p != filepath.Join(root, "shared", "spec", "x.json") {
		t.Errorf("from the variable: %q %v", p, ok)
	}
}
