package forward_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/sharedfolder"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
)

// TestLibraryForwardersLoad: in the forwarder artifacts of Velociraptor's
// library (read from it at test time), the check that decides whether an
// artifact loads finds nothing wrong with their elastic_upload() and
// splunk_upload() calls: every argument they pass is one vqlq's take.
// What else keeps them from loading (vocabulary of clients and flows
// vqlq lacks) is logged.
func TestLibraryForwardersLoad(t *testing.T) {
	defs := t.TempDir()
	for _, rel := range []string{"artifacts/Elastic/Events/Upload.yaml", "artifacts/Splunk/Flows/Upload.yaml"} {
		p, tried, ok := sharedfolder.Velociraptor(rel)
		if !ok {
			t.Skipf("%s not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", rel, strings.Join(tried, ", "))
		}
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(defs, filepath.Base(filepath.Dir(filepath.Dir(p)))+".yaml"), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := artifacts.NewRepository(nil)
	repo.SetChecker(plugins.ArtifactChecker(vqlq.NewQueueEngine(func() (*queues.Manager, error) { return nil, nil })))
	report, err := repo.LoadDir(defs)
	if err != nil {
		t.Fatal(err)
	}
	if report.Files != 2 {
		t.Fatalf("%d files read, want 2", report.Files)
	}
	for _, s := range report.Skipped {
		for _, p := range s.Problems {
			msg := p.Error()
			if strings.Contains(msg, "elastic_upload") || strings.Contains(msg, "splunk_upload") {
				t.Errorf("%s", msg)
			} else {
				t.Logf("not ours: %s", msg)
			}
		}
	}
}
