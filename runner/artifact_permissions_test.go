package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
)

// permissionArtifacts require and imply permissions; their sources say
// whether they ran.
var permissionArtifacts = map[string]string{
	"exec.yaml": `name: Custom.NeedsExec
type: SERVER
required_permissions:
  - EXECVE
sources:
  - query: SELECT 'ran' AS exec FROM scope()
`,
	"net.yaml": `name: Custom.Net
type: SERVER
implied_permissions: [NETWORK]
parameters:
  - name: URL
sources:
  - query: SELECT Content FROM http_client(url=URL)
`,
	"event.yaml": `name: Custom.ExecEvents
type: SERVER_EVENT
required_permissions: [EXECVE]
sources:
  - query: SELECT * FROM clock(period=3600)
`,
}

// permissionBackend is a backend on a real badger store whose definitions
// folder holds permissionArtifacts.
func permissionBackend(t *testing.T) *runner.Backend {
	t.Helper()
	defs := t.TempDir()
	for name, text := range permissionArtifacts {
		if err := os.WriteFile(filepath.Join(defs, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &runner.Backend{Flags: &runner.StoreFlags{DataDir: filepath.Join(t.TempDir(), "data"), Definitions: defs,
		Org: queues.DefaultOrg, Sync: "none", Retention: time.Hour}}
	t.Cleanup(b.Close)
	if _, err := b.Manager(); err != nil {
		t.Fatal(err)
	}
	return b
}

// runAs runs text in a session of id and returns its rows as JSON, its
// ERROR messages and the refusals reported to OnDenied.
func runAs(t *testing.T, b *runner.Backend, id vql.Identity, text string) (rows, errs, denied []string) {
	t.Helper()
	sess := b.Engine().NewSession(vql.SessionOptions{Identity: id,
		OnLog: func(m vql.Message) {
			if m.Level == vql.LevelError {
				errs = append(errs, m.Text)
			}
		},
		OnDenied: func(d vql.Denial) { denied = append(denied, d.Call+" "+string(d.Permission)) }})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := sess.RunText(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	for r := range results {
		j, _ := json.Marshal(r.Row)
		rows = append(rows, string(j))
	}
	return rows, errs, denied
}

// TestArtifactPermissions: an artifact's required_permissions are checked
// before it runs — called as Artifact.X(), collected, or added to server
// monitoring — and a refusal names the permission and reaches OnDenied
// (which the server audits); its implied_permissions hold for its own
// sources only, and never against --deny. The http_client calls reach a
// real HTTP server on loopback.
func TestArtifactPermissions(t *testing.T) {
	b := permissionBackend(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "pong") }))
	defer target.Close()
	reader := vql.Identity{Org: queues.DefaultOrg, Principal: "ops", Role: "reader", Granted: []vql.Permission{vql.PermReadResults, vql.PermAnyQuery}}
	with := func(extra ...vql.Permission) vql.Identity {
		id := reader
		id.Granted = append(append([]vql.Permission{}, reader.Granted...), extra...)
		return id
	}
	owner := b.Owner(queues.DefaultOrg)
	owner.Denied = []vql.Permission{vql.PermNetwork}
	netCall := fmt.Sprintf("SELECT * FROM Artifact.Custom.Net(URL='%s')", target.URL)
	outside := fmt.Sprintf("SELECT Content FROM http_client(url='%s')", target.URL)
	for _, c := range []struct {
		name    string
		id      vql.Identity
		query   string
		rows    string
		err     string
		refused string // what OnDenied was told
	}{
		{"a reader calls an artifact requiring EXECVE", reader, "SELECT * FROM Artifact.Custom.NeedsExec()",
			"", "Artifact.Custom.NeedsExec: permission denied: ops (reader) lacks EXECVE", "Artifact.Custom.NeedsExec EXECVE"},
		{"a reader given EXECVE runs it", with(vql.PermExecve), "SELECT * FROM Artifact.Custom.NeedsExec()",
			`{"exec":"ran"}`, "", ""},
		{"collect checks before the flow starts", with(vql.PermCollectServer), "SELECT collect(artifact='Custom.NeedsExec').TotalRows AS n FROM scope()",
			`{"n":null}`, "collect(artifact=Custom.NeedsExec): permission denied: ops (reader) lacks EXECVE", "collect(artifact=Custom.NeedsExec) EXECVE"},
		{"adding to monitoring checks the artifact", with(vql.PermServerAdmin), "SELECT add_server_monitoring(artifact='Custom.ExecEvents') AS added FROM scope()",
			`{"added":null}`, "add_server_monitoring(artifact=Custom.ExecEvents): permission denied: ops (reader) lacks EXECVE", "add_server_monitoring(artifact=Custom.ExecEvents) EXECVE"},
		{"implied NETWORK inside the artifact", reader, netCall,
			`{"Content":"pong"}`, "", ""},
		{"implied NETWORK not outside it", reader, fmt.Sprintf("SELECT * FROM chain(a={%s}, b={%s})", netCall, outside),
			`{"Content":"pong"}`, "http_client: permission denied: ops (reader) lacks NETWORK", "http_client NETWORK"},
		{"implied NETWORK not after it", reader, netCall + "\n" + outside,
			`{"Content":"pong"}`, "http_client: permission denied: ops (reader) lacks NETWORK", "http_client NETWORK"},
		{"--deny wins over implied", owner, netCall,
			"", "http_client: permission denied: server (owner) lacks NETWORK", "http_client NETWORK"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, errs, denied := runAs(t, b, c.id, c.query)
			if got := strings.Join(rows, "\n"); got != c.rows {
				t.Errorf("rows %s, want %s", got, c.rows)
			}
			if got := strings.Join(errs, "\n"); got != c.err {
				t.Errorf("errors %q, want %q", got, c.err)
			}
			if got := strings.Join(denied, "\n"); got != c.refused {
				t.Errorf("OnDenied told %q, want %q", got, c.refused)
			}
		})
	}
	if list, err := b.Monitoring(); err != nil || len(list.List(queues.DefaultOrg)) != 0 {
		t.Errorf("the refused artifact is in the monitoring table: %v", err)
	}
}

// TestArtifactWritePermissionByType: as in Velociraptor, writing an
// artifact the server runs needs SERVER_ARTIFACT_WRITER, any other
// ARTIFACT_WRITER; replacing or deleting one is judged by the stored
// artifact's type as well. The cases run in order on one store.
func TestArtifactWritePermissionByType(t *testing.T) {
	b := permissionBackend(t)
	as := func(perms ...vql.Permission) vql.Identity {
		return vql.Identity{Org: queues.DefaultOrg, Principal: "dev", Role: "reader", Granted: perms}
	}
	writer, serverWriter := as(vql.PermArtifactWriter), as(vql.PermServerArtifactWriter)
	set := func(def string) string {
		return "SELECT artifact_set(definition=" + strings.ReplaceAll(fmt.Sprintf("%q", def), `\n`, "\n") + ").name AS name FROM scope()"
	}
	for _, c := range []struct {
		name      string
		id        vql.Identity
		query     string
		rows, err string
	}{
		{"a client artifact by its writer", writer, set("name: Custom.Client\nsources:\n  - query: SELECT 1 FROM scope()\n"),
			`{"name":"Custom.Client"}`, ""},
		{"a server artifact by a client artifacts' writer", writer, set("name: Custom.Srv\ntype: SERVER\nsources:\n  - query: SELECT 1 FROM scope()\n"),
			`{"name":null}`, "artifact_set: permission denied: dev (reader) lacks SERVER_ARTIFACT_WRITER"},
		{"a server artifact by its writer", serverWriter, set("name: Custom.Srv\ntype: SERVER\nsources:\n  - query: SELECT 1 FROM scope()\n"),
			`{"name":"Custom.Srv"}`, ""},
		{"a server artifact replaced by a client one", writer, set("name: Custom.Srv\nsources:\n  - query: SELECT 1 FROM scope()\n"),
			`{"name":null}`, "artifact_set: permission denied: dev (reader) lacks SERVER_ARTIFACT_WRITER"},
		{"a client artifact by a server artifacts' writer", serverWriter, set("name: Custom.Client2\n"),
			`{"name":null}`, "artifact_set: permission denied: dev (reader) lacks ARTIFACT_WRITER"},
		{"a server artifact deleted by a client artifacts' writer", writer, "SELECT artifact_delete(name='Custom.Srv') AS gone FROM scope()",
			`{"gone":null}`, "artifact_delete: permission denied: dev (reader) lacks SERVER_ARTIFACT_WRITER"},
		{"a server artifact deleted by its writer", serverWriter, "SELECT artifact_delete(name='Custom.Srv') AS gone FROM scope()",
			`{"gone":true}`, ""},
	} {
		rows, errs, _ := runAs(t, b, c.id, c.query)
		if got := strings.Join(rows, "\n"); got != c.rows {
			t.Errorf("%s: rows %s, want %s", c.name, got, c.rows)
		}
		if got := strings.Join(errs, "\n"); got != c.err {
			t.Errorf("%s: errors %q, want %q", c.name, got, c.err)
		}
	}
}
