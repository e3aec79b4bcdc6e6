package sharedfolder

import (
	"os"
	"path/filepath"
)

// Velociraptor returns the path of rel (artifacts, testcases) inside the
// copy of Velociraptor's library that tests read: under
// $VQLQ_VELOCIRAPTOR_DIR when that is set, otherwise the shared folder's
// velociraptor/ (see Find). tried lists where it looked.
func Velociraptor(rel string) (path string, tried []string, ok bool) {
	if dir := os.Getenv("VQLQ_VELOCIRAPTOR_DIR"); dir != "" {
		p := filepath.Join(dir, rel)
		_, err := os.Stat(p)
		return p, []string{p + " (VQLQ_VELOCIRAPTOR_DIR)"}, err == nil
	}
	return Find(filepath.Join("velociraptor", rel))
}
