package vqlq_test

import (
	"errors"
	"io/fs"
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
func velociraptorArtifacts(t testing.TB) string {
	t.Helper()
	p, tried, ok := sharedfolder.Velociraptor("artifacts")
	if !ok {
		t.Skipf("shared/velociraptor/artifacts not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", strings.Join(tried, ", "))
	}
	return p
}

// TestVelociraptorLibraryLoads: Velociraptor's artifact library, as it
// is, loads as a definitions folder. Every file is a valid definition for
// vqlq (no field of the format is refused, no built-in is taken with
// another type than those listed below); the server-side artifacts whose
// VQL uses plugins vqlq lacks are left out with each problem at
// file:line:col, and the others load. The counts are logged (-v).
func TestVelociraptorLibraryLoads(t *testing.T) {
	lib := velociraptorArtifacts(t)
	repo := artifacts.NewRepository(nil)
	repo.SetChecker(plugins.ArtifactChecker((&runner.Backend{Flags: &runner.StoreFlags{}}).Engine()))
	report, err := repo.LoadDir(lib)
	if err != nil {
		t.Fatalf("the folder was refused: %v", err)
	}
	files := 0
	_ = filepath.WalkDir(lib, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files++
		}
		return nil
	})
	if report.Files != files || files == 0 {
		t.Errorf("report counts %d files, the folder has %d", report.Files, files)
	}
	// The one built-in Velociraptor defines with another type: vqlq's
	// is an INTERNAL queue fed by the server, Velociraptor's a client
	// event artifact.
	otherType := map[string]bool{"Server.Internal.ClientInfo": true}
	byReason := map[string]int{}
	for _, n := range report.Skipped {
		byReason[n.Reason]++
		switch n.Reason {
		case artifacts.ReasonVQL, artifacts.ReasonImport:
			for _, p := range n.Problems {
				var se *source.Error
				var de *artifacts.DefinitionError
				switch {
				case errors.As(p, &se):
					if se.File != n.File || !se.Pos.IsValid() {
						t.Errorf("%s: a problem without its file, line and column: %v", n.Name, p)
					}
				case errors.As(p, &de):
					if de.File != n.File || de.Line == 0 {
						t.Errorf("%s: a problem without its file and line: %v", n.Name, p)
					}
				default:
					t.Errorf("%s: an unplaced problem: %v", n.Name, p)
				}
			}
		case artifacts.ReasonBuiltinType:
			if !otherType[n.Name] {
				t.Errorf("refused as a built-in of another type: %v", n)
			}
		default:
			t.Errorf("not loaded: %v", n)
		}
	}
	if byReason[artifacts.ReasonBuiltinType] != len(otherType) {
		t.Errorf("%d refused for a built-in's name, want %d", byReason[artifacts.ReasonBuiltinType], len(otherType))
	}
	listed := len(repo.List("root")) - len(artifacts.Builtins()) + len(report.Replaced)
	if report.Loaded+len(report.Skipped) != files || listed != report.Loaded {
		t.Errorf("%d loaded (%d listed) + %d skipped, want the %d files", report.Loaded, listed, len(report.Skipped), files)
	}
	// The floor is what loads of Velociraptor 0.77.2's library: every
	// file but Server.Internal.ClientInfo (see otherType).
	const floorLoaded = 288
	if report.Loaded < floorLoaded {
		t.Errorf("%d loaded, below the floor of %d", report.Loaded, floorLoaded)
	}
	t.Logf("%s; by reason: %v; %d built-ins replaced", report.Summary(), byReason, len(report.Replaced))
}

// BenchmarkLoadVelociraptorLibrary: reading, parsing and checking the
// whole library, as every command with --definitions does at start.
func BenchmarkLoadVelociraptorLibrary(b *testing.B) {
	lib := velociraptorArtifacts(b)
	check := plugins.ArtifactChecker((&runner.Backend{Flags: &runner.StoreFlags{}}).Engine())
	for b.Loop() {
		repo := artifacts.NewRepository(nil)
		repo.SetChecker(check)
		if _, err := repo.LoadDir(lib); err != nil {
			b.Fatal(err)
		}
	}
}
