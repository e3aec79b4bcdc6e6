package vqlq_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/internal/sharedfolder"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
)

// exampleNames are the example artifacts vqlq ships (artifacts/examples).
var exampleNames = []string{"Linux.Events.AuthLog", "Linux.Events.ListeningSockets", "Linux.Events.ProcessStarts"}

// TestExampleArtifactsCheck: every example is a CLIENT_EVENT definition
// in a file named after it, whose VQL passes the check of vqlq's own
// engine (the one vqlq client runs them with: every plugin, function and
// argument resolves), and the folder loads whole as a definitions
// folder. None takes the name of an artifact of Velociraptor's library.
func TestExampleArtifactsCheck(t *testing.T) {
	check := plugins.ArtifactChecker((&runner.Backend{Flags: &runner.StoreFlags{}}).Engine())
	entries, err := fs.ReadDir(artifacts.Examples(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		text, err := fs.ReadFile(artifacts.Examples(), e.Name())
		if err != nil {
			t.Fatal(err)
		}
		a, err := artifacts.Parse(text, e.Name())
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		names = append(names, a.Name)
		if a.Name+".yaml" != e.Name() {
			t.Errorf("%s defines %s: the file is named after the artifact", e.Name(), a.Name)
		}
		if a.Type != artifacts.TypeClientEvent {
			t.Errorf("%s: type %s, want CLIENT_EVENT", a.Name, a.Type)
		}
		for _, p := range artifacts.Verify(check, a, func(string) (string, bool) { return "", false }) {
			t.Errorf("%s: %v", a.Name, p)
		}
	}
	if strings.Join(names, " ") != strings.Join(exampleNames, " ") {
		t.Errorf("examples %v, want %v", names, exampleNames)
	}

	repo := artifacts.NewRepository(nil)
	repo.SetChecker(check)
	report, err := repo.LoadDir(filepath.Join("artifacts", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	if report.Loaded != len(exampleNames) || len(report.Skipped) != 0 {
		t.Errorf("--definitions artifacts/examples: %s", report.Summary())
	}

	p, _, ok := sharedfolder.Velociraptor("artifacts")
	if !ok {
		t.Log("no Velociraptor library to compare names with")
		return
	}
	lib := artifacts.NewRepository(nil)
	if _, err := lib.LoadDir(p); err != nil {
		t.Fatal(err)
	}
	for _, n := range exampleNames {
		if _, taken := lib.Get(queues.DefaultOrg, n); taken {
			t.Errorf("%s is also an artifact of Velociraptor's library", n)
		}
	}
}
