package forward_test

import (
	"os"
	"path/filepath"
	"regexp"
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
// artifact loads finds nothing wrong with their elastic_upload(),
// splunk_upload(), logscale_upload(), adx_upload() and upload_gcs() calls:
// every argument they pass is one vqlq's take.
// What else keeps them from loading (vocabulary of clients and flows
// vqlq lacks) is logged.
func TestLibraryForwardersLoad(t *testing.T) {
	defs := t.TempDir()
	files := []string{"artifacts/Elastic/Events/Upload.yaml", "artifacts/Splunk/Flows/Upload.yaml",
		"artifacts/LogScale/Events/Clients.yaml", "artifacts/ADX/Flows/Upload.yaml", "artifacts/Server/Utils/BackupGCS.yaml"}
	for _, rel := range files {
		p, tried, ok := sharedfolder.Velociraptor(rel)
		if !ok {
			t.Skipf("%s not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", rel, strings.Join(tried, ", "))
		}
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(defs, strings.ReplaceAll(strings.TrimPrefix(rel, "artifacts/"), "/", "_")), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := artifacts.NewRepository(nil)
	repo.SetChecker(plugins.ArtifactChecker(vqlq.NewQueueEngine(func() (*queues.Manager, error) { return nil, nil })))
	report, err := repo.LoadDir(defs)
	if err != nil {
		t.Fatal(err)
	}
	if report.Files != len(files) {
		t.Fatalf("%d files read, want %d", report.Files, len(files))
	}
	ours := regexp.MustCompile(`\b(elastic_upload|splunk_upload|logscale_upload|adx_upload|upload_gcs)\b`)
	for _, s := range report.Skipped {
		for _, p := range s.Problems {
			msg := p.Error()
			if ours.MatchString(msg) {
				t.Errorf("%s", msg)
			} else {
				t.Logf("not ours: %s", msg)
			}
		}
	}
}
