package functions_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// TestUploadDirectory copies real files under an output folder, as
// Windows.KapeFiles.Extract rebuilds a collection, and reads back what
// was written.
func TestUploadDirectory(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "extract")
	if err := os.WriteFile(filepath.Join(src, "ntuser.dat"), []byte("hive data"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, o := filepath.ToSlash(src), filepath.ToSlash(out)
	rw := vql.SessionOptions{Identity: vql.Identity{Principal: "analyst", Granted: []vql.Permission{vql.PermFilesystemRead, vql.PermFilesystemWrite}}}
	vqltest.RunWith(t, rw, []vqltest.Case{
		{"a file under a pathspec name, with its times",
			`SELECT upload_directory(file="` + s + `/ntuser.dat", output="` + o + `", name=pathspec(parse="C:/Users/bob/NTUSER.DAT", path_type="windows"), mtime="2021-03-04T05:06:07Z", atime=1614834367) AS u FROM scope()`,
			`[{"u":{"Path":"` + o + `/C:/Users/bob/NTUSER.DAT","Size":9,"StoredSize":9,"sha256":"` + sha256Hex("hive data") + `","md5":"` + md5Hex("hive data") + `","StoredName":"` + o + `/C:/Users/bob/NTUSER.DAT","Components":["C:","Users","bob","NTUSER.DAT"],"Accessor":"auto"}}]`, ""},
		{"data, a name that tries to climb out",
			`SELECT upload_directory(file="evil", accessor="data", output="` + o + `", name="../../etc/passwd").Components AS c FROM scope()`,
			`[{"c":["etc","passwd"]}]`, ""},
		{"output missing", `SELECT upload_directory(file="x", accessor="data") AS u FROM scope()`, `[{"u":null}]`, "output"},
		{"a name with nothing in it", `SELECT upload_directory(file="x", accessor="data", output="` + o + `", name="../..") AS u FROM scope()`, `[{"u":null}]`, "names no file"},
		{"bad time", `SELECT upload_directory(file="x", accessor="data", output="` + o + `", name="t", mtime="not a time") AS u FROM scope()`, `[{"u":null}]`, "upload_directory: mtime"},
		{"missing file", `SELECT upload_directory(file="` + s + `/nope", output="` + o + `") AS u FROM scope()`, `[{"u":null}]`, "upload_directory"},
	})
	b, err := os.ReadFile(filepath.Join(out, "C:", "Users", "bob", "NTUSER.DAT"))
	if err != nil || string(b) != "hive data" {
		t.Fatalf("written file: %q, %v", b, err)
	}
	st, _ := os.Stat(filepath.Join(out, "C:", "Users", "bob", "NTUSER.DAT"))
	if want := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC); !st.ModTime().Equal(want) {
		t.Errorf("mtime %v, want %v", st.ModTime(), want)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "etc", "passwd")); string(b) != "evil" {
		t.Errorf("data copy: %q", b)
	}
	vqltest.RunWith(t, vql.SessionOptions{Identity: vql.Identity{Principal: "reader", Granted: []vql.Permission{vql.PermFilesystemRead}}}, []vqltest.Case{
		{"needs FILESYSTEM_WRITE", `SELECT upload_directory(file="x", accessor="data", output="` + o + `", name="y") AS u FROM scope()`, `[{"u":null}]`, "FILESYSTEM_WRITE"},
	})
	if _, err := os.Stat(filepath.Join(out, "y")); err == nil {
		t.Error("written without FILESYSTEM_WRITE")
	}
}

func sha256Hex(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }

func md5Hex(s string) string { b := md5.Sum([]byte(s)); return hex.EncodeToString(b[:]) }
