package functions_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// TestStatFunction: stat() in an expression, as Generic.Utils.DeadDiskRemapping
// and Server.Utils.UploadTools use it, on real files.
func TestStatFunction(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tool.exe"), []byte(strings.Repeat("x", 150)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := filepath.ToSlash(dir)
	reader := vql.SessionOptions{Identity: vql.Identity{Principal: "analyst", Granted: []vql.Permission{vql.PermFilesystemRead}}}
	vqltest.RunWith(t, reader, []vqltest.Case{
		{"a file's fields", `SELECT stat(filename="` + d + `/tool.exe").Size AS size, stat(filename="` + d + `/tool.exe").IsDir AS dir, stat(filename="` + d + `/tool.exe").Name AS name FROM scope()`,
			`[{"size":150,"dir":false,"name":"tool.exe"}]`, ""},
		{"a folder", `SELECT stat(filename="` + d + `").IsDir AND TRUE AS dir FROM scope()`, `[{"dir":true}]`, ""},
		{"as UploadTools filters", `SELECT _value AS f FROM foreach(row=["tool.exe", "small"]) WHERE stat(filename="` + d + `/" + _value).Size > 100`,
			`[{"f":"tool.exe"}]`, ""},
		{"missing file", `SELECT stat(filename="` + d + `/nope") AS s FROM scope()`, `[{"s":null}]`, "stat: "},
		{"no filename", `SELECT stat() AS s FROM scope()`, `[{"s":null}]`, "filename"},
	})
	vqltest.Run(t, []vqltest.Case{
		{"needs FILESYSTEM_READ", `SELECT stat(filename="` + d + `/tool.exe") AS s FROM scope()`, `[{"s":null}]`, "FILESYSTEM_READ"},
	})
}
