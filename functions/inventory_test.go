package functions_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// toolServer serves tool binaries on loopback and counts the fetches.
func toolServer(t *testing.T, files map[string]string) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// runAs runs text as id in a session with the instance's data folder.
func runAs(t *testing.T, inst *queuetest.Instance, id vql.Identity, vars map[string]any, text string) ([]string, string) {
	t.Helper()
	e := vqlq.NewQueueEngine(inst.Provider())
	var mu sync.Mutex
	var logs []string
	s := e.NewSession(vql.SessionOptions{Identity: id, UploadDir: filepath.Join(inst.Dir, "uploads"),
		OnLog: func(m vql.Message) { mu.Lock(); logs = append(logs, m.String()); mu.Unlock() }})
	defer s.Close()
	for k, v := range vars {
		s.Scope().Set(k, v)
	}
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rows []string
	last := -1
	for r := range s.Run(ctx, prog) {
		if r.Statement != last {
			rows, last = nil, r.Statement
		}
		b, _ := output.Marshal(r.Row)
		rows = append(rows, string(b))
	}
	mu.Lock()
	defer mu.Unlock()
	return rows, strings.Join(logs, "\n")
}

// TestToolsInventory: tools declared by artifacts, fetched from a real
// HTTP server on loopback, and overridden with files, per org, kept
// across a restart.
func TestToolsInventory(t *testing.T) {
	hayabusa, sysmon, local := "hayabusa binary", "sysmon binary", strings.Repeat("L", 200)
	srv, hits := toolServer(t, map[string]string{"/hayabusa.zip": hayabusa, "/Sysmon64.exe": sysmon})
	defs := map[string]string{"tools.yaml": `name: Custom.Uses.Tools
type: SERVER
tools:
  - name: Hayabusa
    url: ` + srv.URL + `/hayabusa.zip
  - name: Sysmon
    url: ` + srv.URL + `/Sysmon64.exe
    serve_locally: true
    expected_hash: ` + sha256Hex(sysmon) + `
  - name: BadHash
    url: ` + srv.URL + `/Sysmon64.exe
    serve_locally: true
    expected_hash: ` + sha256Hex("another build") + `
  - name: Gone
    url: ` + srv.URL + `/missing.exe
sources:
  - query: SELECT * FROM scope()
`}
	inst := queuetest.New(t, defs)
	admin := vql.Identity{Org: "root", Principal: "admin", All: true}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "Sysmon64.exe"), []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"BasePath": filepath.ToSlash(bin) + "/"}
	for _, tc := range []struct {
		name string
		id   vql.Identity
		q    string
		want []string
		log  string
	}{
		{"declared tools", admin, `SELECT name, filename, hash, serve_locally, admin_override, artifact FROM inventory()`, []string{
			`{"name":"BadHash","filename":"Sysmon64.exe","hash":"` + sha256Hex("another build") + `","serve_locally":true,"admin_override":false,"artifact":"Custom.Uses.Tools"}`,
			`{"name":"Gone","filename":"missing.exe","hash":"","serve_locally":false,"admin_override":false,"artifact":"Custom.Uses.Tools"}`,
			`{"name":"Hayabusa","filename":"hayabusa.zip","hash":"","serve_locally":false,"admin_override":false,"artifact":"Custom.Uses.Tools"}`,
			`{"name":"Sysmon","filename":"Sysmon64.exe","hash":"` + sha256Hex(sysmon) + `","serve_locally":true,"admin_override":false,"artifact":"Custom.Uses.Tools"}`}, ""},
		{"an unknown hash is fetched", admin, `SELECT inventory_get(tool="Hayabusa").Tool_Hayabusa_HASH AS h, inventory_get(tool="Hayabusa").Definition.filename AS f FROM scope()`,
			[]string{`{"h":"` + sha256Hex(hayabusa) + `","f":"hayabusa.zip"}`}, ""},
		{"a served tool is fetched and kept", admin, `SELECT inventory_get(tool="Sysmon").Definition.size AS size, inventory_get(tool="Sysmon").Tool_Sysmon_URL AS url FROM scope()`,
			[]string{`{"size":13,"url":"` + srv.URL + `/Sysmon64.exe"}`}, ""},
		{"a hash that does not match", admin, `SELECT inventory_get(tool="BadHash") AS t FROM scope()`, []string{`{"t":null}`}, "the inventory expects " + sha256Hex("another build")},
		{"a url that fails", admin, `SELECT inventory_get(tool="Gone") AS t FROM scope()`, []string{`{"t":null}`}, "404 Not Found"},
		{"probe does not fetch", admin, `SELECT inventory_get(tool="Gone", probe=TRUE).Definition.name AS n FROM scope()`, []string{`{"n":"Gone"}`}, ""},
		{"unknown tool", admin, `SELECT inventory_get(tool="Nope") AS t FROM scope()`, []string{`{"t":null}`}, "tool Nope is not in the inventory"},
		{"as UploadTools uploads a folder", admin, `LET BasePath <= pathspec(parse=BasePath)
SELECT name, inventory_add(file=BasePath + filename, tool=name, serve_locally=TRUE).hash AS UpdatedHash
FROM inventory() WHERE url AND NOT admin_override AND stat(filename=BasePath + filename).Size > 100`,
			[]string{`{"name":"BadHash","UpdatedHash":"` + sha256Hex(local) + `"}`, `{"name":"Sysmon","UpdatedHash":"` + sha256Hex(local) + `"}`}, ""},
		{"the override is served", admin, `SELECT admin_override, hash, size FROM inventory() WHERE name = "Sysmon"`,
			[]string{`{"admin_override":true,"hash":"` + sha256Hex(local) + `","size":200}`}, ""},
		{"a tool no artifact declares", admin, `SELECT inventory_add(tool="Mine", url="https://example.invalid/mine.exe", hash="ABC").filename AS f, inventory_get(tool="Mine").Tool_Mine_HASH AS h FROM scope()`,
			[]string{`{"f":"mine.exe","h":"abc"}`}, ""},
		{"a bad name", admin, `SELECT inventory_add(tool="../x") AS t FROM scope()`, []string{`{"t":null}`}, "path separator"},
		{"another org has its own", vql.Identity{Org: "o2", Principal: "admin", All: true}, `SELECT name, admin_override FROM inventory() WHERE admin_override`, nil, ""},
		{"fetching needs NETWORK", vql.Identity{Org: "o2", Principal: "ops", Granted: []vql.Permission{vql.PermServerAdmin}}, `SELECT inventory_get(tool="Hayabusa") AS t FROM scope()`,
			[]string{`{"t":null}`}, "lacks NETWORK"},
		{"inventory_add needs SERVER_ADMIN", vql.Identity{Org: "root", Principal: "reader", Granted: []vql.Permission{vql.PermReadResults}}, `SELECT inventory_add(tool="X") AS t FROM scope()`,
			[]string{`{"t":null}`}, "lacks SERVER_ADMIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, logs := runAs(t, inst, tc.id, vars, tc.q)
			if strings.Join(rows, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s\n got: %v\nwant: %v\nlogs: %s", tc.q, rows, tc.want, logs)
			}
			if tc.log != "" && !strings.Contains(logs, tc.log) {
				t.Errorf("no log holds %q: %s", tc.log, logs)
			}
		})
	}
	before := hits.Load()
	runAs(t, inst, admin, nil, `SELECT inventory_get(tool="Hayabusa") FROM scope()`)
	if hits.Load() != before {
		t.Error("a tool whose hash is known was fetched again")
	}
	kept, err := os.ReadFile(filepath.Join(inst.Dir, "inventory", "root", "Sysmon", "Sysmon64.exe"))
	if err != nil || string(kept) != local {
		t.Errorf("kept binary: %q, %v", kept, err)
	}
	inst.Restart()
	rows, _ := runAs(t, inst, admin, nil, `SELECT name FROM inventory() WHERE admin_override`)
	if got := strings.Join(rows, ","); got != `{"name":"BadHash"},{"name":"Mine"},{"name":"Sysmon"}` {
		t.Errorf("after a restart: %s", got)
	}
}
