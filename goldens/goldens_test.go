package goldens

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/conformance"
	"github.com/vqlq/vqlq/internal/sharedfolder"
)

// TestVelociraptorGoldens replays every qualifying golden file of
// Velociraptor's and compares each query's rows with the .out.yaml. A
// failing query not in deviations.txt fails the test, as does a listed one
// that passes; at least 90% of the qualifying queries must pass.
func TestVelociraptorGoldens(t *testing.T) {
	dir, tried, ok := sharedfolder.Velociraptor("testcases")
	if !ok {
		t.Skipf("Velociraptor's golden tests not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", strings.Join(tried, ", "))
	}
	deviations, err := conformance.Deviations("deviations.txt")
	if err != nil {
		t.Fatal(err)
	}
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	check := NewFixture(t.TempDir(), nil)
	defer check.Close()
	qualifying, passed, failed, deviated := 0, 0, 0, 0
	seen := map[string]bool{}
	for _, f := range files {
		if len(f.Queries) == 0 {
			t.Logf("%s has no queries", f.Name)
			continue
		}
		if ok, why := Qualifies(f, check.Engine()); !ok {
			t.Logf("%s does not qualify: %s", f.Name, why)
			continue
		}
		qualifying++
		fx := NewFixture(t.TempDir(), f.Parameters)
		for i, failure := range Replay(f, fx) {
			id := f.ID(i)
			seen[id] = true
			reason, listed := deviations[id]
			switch {
			case failure == "" && listed:
				passed++
				t.Errorf("%s passes but is listed in deviations.txt; remove it", id)
			case failure == "":
				passed++
			case listed:
				failed++
				deviated++
				t.Logf("known deviation %s (%s)\n  query: %s\n  %s", id, reason, oneLine(f.Queries[i].Text), failure)
			default:
				failed++
				t.Errorf("FAIL %s\n  query: %s\n  %s", id, oneLine(f.Queries[i].Text), failure)
			}
		}
		fx.Close()
	}
	for id := range deviations {
		if !seen[id] {
			t.Errorf("deviations.txt names %s, which is no query of a qualifying file", id)
		}
	}
	fmt.Printf("velociraptor-goldens: %d of %d files qualify\n", qualifying, len(files))
	fmt.Printf("velociraptor-goldens: %d passed, %d failed\n", passed, failed)
	t.Logf("%d known deviations", deviated)
	if total := passed + failed; total == 0 || passed*10 < total*9 {
		t.Errorf("%d of %d qualifying queries pass; at least 90%% must", passed, total)
	}
}

// oneLine folds a query onto one line for a failure message.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
