package functions_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// TestHTTPClientTempfileAndChunks: tempfile_extension streams the body to
// a file of the session (gone when it closes), and needs FILESYSTEM_WRITE;
// chunk_size splits the plugin's Content into rows.
func TestHTTPClientTempfileAndChunks(t *testing.T) {
	srv := newHTTPTestServer(t)
	e := vqlq.NewEngine()
	e.SetVar("U", srv.URL)
	var logs []string
	s := e.NewSession(vql.SessionOptions{
		Identity: vql.Identity{Granted: []vql.Permission{vql.PermNetwork, vql.PermFilesystemWrite, vql.PermFilesystemRead}},
		OnLog:    func(m vql.Message) { logs = append(logs, m.String()) }})
	run := func(q string) []any {
		t.Helper()
		prog, err := parser.Parse(q, "")
		if err != nil {
			t.Fatal(err)
		}
		var rows []any
		for r := range s.Run(context.Background(), prog) {
			rows = append(rows, r.Row)
		}
		return rows
	}
	rows := run(`SELECT Content AS Path, read_file(filename=Content) AS Body, Response FROM http_client(url=U + '/teapot', tempfile_extension='.txt', remove_last=TRUE)`)
	if len(rows) != 1 {
		t.Fatalf("rows %v, logs %v", rows, logs)
	}
	path, _ := value.Member(rows[0], "Path")
	body, _ := value.Member(rows[0], "Body")
	status, _ := value.Member(rows[0], "Response")
	p, _ := path.(string)
	if !strings.HasSuffix(p, ".txt") || body != "short and stout" || status != int64(418) {
		t.Errorf("tempfile: path %v, body %v, status %v; logs %v", path, body, status, logs)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the temporary file is gone before the session ends: %v", err)
	}
	b, _ := value.EncodeJSON(run(`SELECT Content FROM http_client(url=U + '/teapot', chunk_size=5)`))
	if got := string(b); got != `[{"Content":"short"},{"Content":" and "},{"Content":"stout"}]` {
		t.Errorf("chunks: %s", got)
	}
	s.Close()
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the temporary file outlived its session: %v", err)
	}
	// Without FILESYSTEM_WRITE nothing is written.
	got, msgs := runHTTPQuery(t, context.Background(), map[string]any{"U": srv.URL},
		`SELECT Response, Content FROM http_client(url=U + '/teapot', tempfile_extension='.zip')`)
	if got != `[{"Response":0,"Content":""}]` || !strings.Contains(msgs[0].Text, "http_client: permission denied: this session lacks FILESYSTEM_WRITE") {
		t.Errorf("without FILESYSTEM_WRITE: %s %v", got, msgs)
	}
}
