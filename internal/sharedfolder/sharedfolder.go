// Package sharedfolder finds the project's shared folder (specs, the seed,
// the conformance corpus). It lives beside the repository and is never
// copied into it, so the tests that read it look for it.
package sharedfolder

import (
	"os"
	"path/filepath"
)

// Find returns the path of rel inside the shared folder: under
// $VQLQ_SHARED_DIR when that is set, otherwise under a "shared" folder in
// the working directory or any of its ancestors (the repository's sibling).
// tried lists where it looked, for the message of a skipped test.
func Find(rel string) (path string, tried []string, ok bool) {
	if dir := os.Getenv("VQLQ_SHARED_DIR"); dir != "" {
		p := filepath.Join(dir, rel)
		_, err := os.Stat(p)
		return p, []string{p}, err == nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", nil, false
	}
	for {
		p := filepath.Join(dir, "shared", rel)
		tried = append(tried, p)
		if _, err := os.Stat(p); err == nil {
			return p, tried, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", tried, false
		}
		dir = parent
	}
}
