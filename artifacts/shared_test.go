package artifacts

import (
	"testing"

	"github.com/vqlq/vqlq/internal/sharedfolder"
)

// sharedFile returns the path of a file of the project's shared folder, or
// skips the test saying where it looked.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	p, tried, ok := sharedfolder.Find(rel)
	if !ok {
		t.Skipf("shared/%s not found; looked in %v (set VQLQ_SHARED_DIR)", rel, tried)
	}
	return p
}
