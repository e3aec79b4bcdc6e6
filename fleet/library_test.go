package fleet_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/internal/sharedfolder"
)

// TestLibraryArtifacts runs Velociraptor's own client-management server
// artifacts, as they are, on real records: Admin.Client.Remove purges the
// clients not seen for Age days (a dry run first), Server.Utils.KillClient
// and Server.Utils.DeleteClient act on the ids they are given.
func TestLibraryArtifacts(t *testing.T) {
	lib, tried, ok := sharedfolder.Velociraptor("artifacts")
	if !ok {
		t.Skipf("shared/velociraptor/artifacts not found; looked in %s (set VQLQ_VELOCIRAPTOR_DIR)", strings.Join(tried, ", "))
	}
	defs := map[string]string{}
	for _, f := range []string{"Admin/Client/Remove.yaml", "Server/Utils/KillClient.yaml", "Server/Utils/DeleteClient.yaml"} {
		b, err := os.ReadFile(filepath.Join(lib, f))
		if err != nil {
			t.Fatal(err)
		}
		defs[strings.ReplaceAll(f, "/", "_")] = string(b)
	}
	inst := queuetest.New(t, defs)
	reg := fleet.Of(inst.M)
	stale := fleet.Client{ClientID: "C.00000000000000a1", Hostname: "stale", FQDN: "stale.corp", LastSeen: time.Now().Add(-30 * 24 * time.Hour)}
	fresh := fleet.Client{ClientID: "C.00000000000000a2", Hostname: "fresh", FQDN: "fresh.corp", LastSeen: time.Now()}
	other := fleet.Client{ClientID: "C.00000000000000a3", Hostname: "other", LastSeen: time.Now()}
	for _, c := range []fleet.Client{stale, fresh, other} {
		if err := reg.Put("root", c); err != nil {
			t.Fatal(err)
		}
	}
	runCases(t, inst, []vqlCase{
		{"Remove, dry run", owner, `SELECT client_id, type, Fqdn FROM Artifact.Admin.Client.Remove(Age=7)`,
			`[{"client_id":"C.00000000000000a1","type":"client","Fqdn":"stale.corp"}]`, "dry run"},
		{"nothing removed", owner, `SELECT count() AS N FROM clients() GROUP BY 1`, `[{"N":3}]`, ""},
		{"Remove", owner, `SELECT client_id, type, error FROM Artifact.Admin.Client.Remove(Age=7, ReallyDoIt=TRUE)`,
			`[{"client_id":"C.00000000000000a1","type":"client","error":null}]`, ""},
		{"stale removed", owner, `SELECT client_id FROM clients()`, `[{"client_id":"C.00000000000000a2"},{"client_id":"C.00000000000000a3"}]`, ""},
		{"KillClient", owner, `SELECT * FROM Artifact.Server.Utils.KillClient(ClientIdList="C.00000000000000a2 and C.ffffffffffffffff")`,
			`[{"killkillkill(client_id=ClientId)":"C.00000000000000a2"},{"killkillkill(client_id=ClientId)":null}]`, "no such client C.ffffffffffffffff"},
		{"DeleteClient", owner, `SELECT client_id, type FROM Artifact.Server.Utils.DeleteClient(ClientIdList="C.00000000000000a3", ReallyDoIt=TRUE)`,
			`[{"client_id":"C.00000000000000a3","type":"client"}]`, ""},
		{"left", owner, `SELECT client_id FROM clients()`, `[{"client_id":"C.00000000000000a2"}]`, ""},
	})
	if _, found, _ := reg.TakeKill("root", fresh.ClientID); !found {
		t.Errorf("KillClient left no request for %s", fresh.ClientID)
	}
}
