package plugins_test

import (
	"archive/zip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

var readFiles = vql.SessionOptions{Identity: vql.Identity{Principal: "test", Granted: []vql.Permission{vql.PermFilesystemRead}}}

// globTree makes a.txt, b.log, sub/c.txt, sub/deep/d.TXT, a link to sub,
// and an archive.zip holding dir/inner.txt and top.csv, all modified at
// 2020-01-02T03:04:05Z.
func globTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	when := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, text := range map[string]string{"a.txt": "hello", "b.log": "log", "sub/c.txt": "c", "sub/deep/d.TXT": "dd"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "archive.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, m := range []struct{ name, text string }{{"dir/inner.txt", "inside"}, {"top.csv", "x\n1\n"}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Modified: when, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m.text))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return dir
}

func TestGlob(t *testing.T) {
	dir := globTree(t)
	tests := []struct{ name, query, want string }{
		{"a pattern under root", `SELECT Name FROM glob(globs="*.txt", root=D)`, `[{"Name":"a.txt"}]`},
		{"** recurses, through links", `SELECT relpath(path=OSPath, base=D) AS P FROM glob(globs=D + "/**/*.txt")`,
			`[{"P":"a.txt"},{"P":"link/c.txt"},{"P":"link/deep/d.TXT"},{"P":"sub/c.txt"},{"P":"sub/deep/d.TXT"}]`},
		{"nosymlink stays out of links", `SELECT relpath(path=OSPath, base=D) AS P FROM glob(globs="**/*.txt", root=D, nosymlink=TRUE)`,
			`[{"P":"a.txt"},{"P":"sub/c.txt"},{"P":"sub/deep/d.TXT"}]`},
		{"**1 goes one level down", `SELECT relpath(path=OSPath, base=D) AS P FROM glob(globs="sub/**1", root=D)`,
			`[{"P":"sub/c.txt"},{"P":"sub/deep"}]`},
		{"**1 before a component", `SELECT relpath(path=OSPath, base=D) AS P FROM glob(globs="**1/*.txt", root=D, nosymlink=TRUE)`,
			`[{"P":"a.txt"},{"P":"sub/c.txt"}]`},
		{"braces", `SELECT Name FROM glob(globs="{a,b}.*", root=D)`, `[{"Name":"a.txt"},{"Name":"b.log"}]`},
		{"a list of globs, each file once", `SELECT Name, Globs FROM glob(globs=["*.txt", "*.log", "A.*"], root=D)`,
			`[{"Name":"a.txt","Globs":["*.txt","A.*"]},{"Name":"b.log","Globs":["*.log"]}]`},
		{"the columns of a file", `SELECT Name, Size, Mode, Mode.String AS M, IsDir, IsLink, Mtime, ModTime, Atime, OSPath.Basename AS B FROM glob(globs="a.txt", root=D)`,
			`[{"Name":"a.txt","Size":5,"Mode":420,"M":"-rw-r--r--","IsDir":false,"IsLink":false,"Mtime":"2020-01-02T03:04:05Z","ModTime":"2020-01-02T03:04:05Z","Atime":"2020-01-02T03:04:05Z","B":"a.txt"}]`},
		{"a link", `SELECT Name, IsLink, Data FROM glob(globs="link", root=D)`, `[{"Name":"link","IsLink":true,"Data":{"Link":"sub"}}]`},
		{"recursion_callback prunes", `SELECT Name FROM glob(globs="**/*.txt", root=D, nosymlink=TRUE, recursion_callback="x => NOT x.Name =~ 'deep'")`,
			`[{"Name":"a.txt"},{"Name":"c.txt"}]`},
		{"inside a zip", `SELECT OSPath.Path AS P, IsDir, Size, Mtime, read_file(filename=OSPath, accessor="zip") AS T FROM glob(globs="**", root=pathspec(DelegatePath=D + "/archive.zip"), accessor="zip")`,
			`[{"P":"/dir","IsDir":true,"Size":0,"Mtime":null,"T":null},{"P":"/dir/inner.txt","IsDir":false,"Size":6,"Mtime":"2020-01-02T03:04:05Z","T":"inside"},{"P":"/top.csv","IsDir":false,"Size":4,"Mtime":"2020-01-02T03:04:05Z","T":"x\n1\n"}]`},
		{"stat", `SELECT Name, if(condition=IsDir, then="dir", else=Size) AS Size, IsDir, IsLink FROM stat(filename=[D + "/a.txt", D + "/link", D + "/sub"])`,
			`[{"Name":"a.txt","Size":5,"IsDir":false,"IsLink":false},{"Name":"link","Size":3,"IsDir":false,"IsLink":true},{"Name":"sub","Size":"dir","IsDir":true,"IsLink":false}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, readFiles, `LET D = "`+dir+`" `+tc.query)
			if got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", tc.query, got, tc.want, logs)
			}
		})
	}
}

// TestGlobStar checks the columns of SELECT * and their order; the
// change time is the test's own, so it is masked.
func TestGlobStar(t *testing.T) {
	dir := globTree(t)
	got, logs := vqltest.RowsWith(t, readFiles, `SELECT * FROM glob(globs="a.txt", root="`+dir+`")`)
	got = regexp.MustCompile(`"Ctime":"[^"]*"`).ReplaceAllString(got, `"Ctime":"…"`)
	want := `[{"Name":"a.txt","Mtime":"2020-01-02T03:04:05Z","Atime":"2020-01-02T03:04:05Z","Ctime":"…","Btime":null,"Size":5,"Mode":420,"IsDir":false,"IsLink":false,"Data":{},"Globs":["a.txt"],"OSPath":"` + dir + `/a.txt"}]`
	if got != want {
		t.Errorf("got:  %s\nwant: %s\nlogs: %q", got, want, logs)
	}
}

func TestGlobRefusals(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"glob needs FILESYSTEM_READ", `SELECT * FROM glob(globs="/etc/*")`, `[]`, `glob: permission denied: this session lacks FILESYSTEM_READ`},
		{"stat needs FILESYSTEM_READ", `SELECT * FROM stat(filename="/etc/passwd")`, `[]`, `stat: permission denied: this session lacks FILESYSTEM_READ`},
	})
	got, logs := vqltest.RowsWith(t, readFiles, `SELECT * FROM glob(globs="/tmp/[")`)
	if got != `[]` || len(logs) != 1 || logs[0] != `ERROR:glob: glob "/tmp/[": bad pattern "[": syntax error in pattern` {
		t.Errorf("a bad pattern: %s, %q", got, logs)
	}
}
