package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/server"
)

// rowValue is the value of column col in the first row of a query
// stream.
func rowValue(t *testing.T, body, col string) string {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		var m struct {
			Type string
			Row  map[string]any
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Type == "row" {
			s, _ := m.Row[col].(string)
			return s
		}
	}
	t.Fatalf("no row in %s", body)
	return ""
}

// TestTemporaryFilesEndWithTheSession: a request's own session is closed
// when the request ends, taking its tempfile() with it; a kept session
// keeps it between requests. upload() stores in the server's uploads
// folder, in the token's org.
func TestTemporaryFilesEndWithTheSession(t *testing.T) {
	uploads := t.TempDir()
	e := newAPIEnvWith(t, func(o *server.Options) { o.UploadDir = uploads })
	_, body := e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "admin", `SELECT tempfile(data="x") AS f FROM scope()`)
	if f := rowValue(t, body, "f"); f == "" {
		t.Fatalf("no tempfile: %s", body)
	} else if _, err := os.Stat(f); !os.IsNotExist(err) {
		t.Errorf("%s outlived its request: %v", f, err)
	}
	e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "admin", `{"query": "LET F <= tempfile(data='kept')", "session": "s1"}`)
	_, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "admin", `{"query": "SELECT read_file(filename=F) AS t FROM scope()", "session": "s1"}`)
	if rowValue(t, body, "t") != "kept" {
		t.Errorf("a kept session lost its tempfile: %s", body)
	}
	_, body = e.do("POST", "/api/v1/orgs/acme/query", "acme-admin", `SELECT upload(file="evidence", accessor="data", name="n.txt").StoredName AS n FROM scope()`)
	if rowValue(t, body, "n") != "n.txt" {
		t.Fatalf("upload: %s", body)
	}
	if b, err := os.ReadFile(filepath.Join(uploads, "acme", "files", "n.txt")); err != nil || string(b) != "evidence" {
		t.Errorf("the upload is not in acme's folder: %q %v", b, err)
	}
	_, body = e.do("POST", "/api/v1/orgs/"+rootOrg+"/query", "reader", `SELECT * FROM glob(globs="/etc/*")`)
	if !strings.Contains(body, `"message":"glob: permission denied: reader (reader) lacks FILESYSTEM_READ"`) || strings.Contains(body, `"type":"row"`) {
		t.Errorf("a reader globbed: %s", body)
	}
}
