package artifacts

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedFile returns the path of a file of the project's shared folder
// (the spec and seed documents), which lives beside the repository and is
// never copied into it. VQLQ_SHARED_DIR, when set, names that folder;
// otherwise each ancestor of the package directory is tried for a
// shared/spec/builtin_queues.json. The test is skipped when it is absent.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	var tried []string
	if dir := os.Getenv("VQLQ_SHARED_DIR"); dir != "" {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		t.Skipf("shared folder not found: VQLQ_SHARED_DIR is set but %s does not exist", p)
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Skipf("shared folder not found: cannot get the working directory: %v", err)
	}
	for {
		shared := filepath.Join(dir, "shared")
		tried = append(tried, shared)
		if _, err := os.Stat(filepath.Join(shared, "spec", "builtin_queues.json")); err == nil {
			return filepath.Join(shared, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Skipf("shared folder not found: set VQLQ_SHARED_DIR, or put shared/spec/builtin_queues.json beside the repository (looked for it in %v)", tried)
	return ""
}
