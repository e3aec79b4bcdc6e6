package functions_test

import (
	"archive/zip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

func digests(text string) (string, string) {
	s, m := sha256.Sum256([]byte(text)), md5.Sum([]byte(text))
	return hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
}

// TestUpload stores real files in an uploads folder and lists them per
// org.
func TestUpload(t *testing.T) {
	dir, store := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "evidence.log"), []byte("line 1\nline 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("inner/m.txt")
	w.Write([]byte("member"))
	zw.Close()
	f.Close()
	logSHA, logMD5 := digests("line 1\nline 2\n")
	memberSHA, _ := digests("member")

	root := readWrite(store)
	got, logs := vqltest.RowsWith(t, root, `SELECT upload(file="`+dir+`/evidence.log") AS u FROM scope()`)
	want := `[{"u":{"Path":"` + dir + `/evidence.log","Size":14,"StoredSize":14,"sha256":"` + logSHA + `","md5":"` + logMD5 + `","StoredName":"` + dir[1:] + `/evidence.log","Components":[` + quoteComponents(dir[1:]+"/evidence.log") + `],"Accessor":"auto"}}]`
	if got != want {
		t.Errorf("upload:\n got: %s\nwant: %s\nlogs: %q", got, want, logs)
	}
	got, logs = vqltest.RowsWith(t, root, `SELECT upload(file=pathspec(DelegatePath="`+dir+`/bundle.zip", Path="inner/m.txt"), accessor="zip", name="../../m.txt").StoredName AS n, upload(file="x", accessor="data", name="notes/x").sha256 AS h FROM scope()`)
	if got != `[{"n":"m.txt","h":"`+mustDigest("x")+`"}]` {
		t.Errorf("named uploads: %s (%q)", got, logs)
	}
	got, logs = vqltest.RowsWith(t, root, `SELECT Name, Size, sha256, Source, Accessor, Principal, read_file(filename=StoredPath) AS Text FROM uploads()`)
	want = `[{"Name":"` + dir[1:] + `/evidence.log","Size":14,"sha256":"` + logSHA + `","Source":"` + dir + `/evidence.log","Accessor":"auto","Principal":"test","Text":"line 1\nline 2\n"},` +
		`{"Name":"m.txt","Size":6,"sha256":"` + memberSHA + `","Source":"{\"DelegateAccessor\":\"\",\"DelegatePath\":\"` + dir + `/bundle.zip\",\"Path\":\"/inner/m.txt\"}","Accessor":"zip","Principal":"test","Text":"member"},` +
		`{"Name":"notes/x","Size":1,"sha256":"` + mustDigest("x") + `","Source":"x","Accessor":"data","Principal":"test","Text":"x"}]`
	if got != want {
		t.Errorf("uploads():\n got: %s\nwant: %s\nlogs: %q", got, want, logs)
	}
	other := readWrite(store)
	other.Identity.Org = "acme"
	if got, logs := vqltest.RowsWith(t, other, `SELECT * FROM uploads()`); got != `[]` {
		t.Errorf("another org sees %s (%q)", got, logs)
	}
	for _, tc := range []struct {
		opts vql.SessionOptions
		log  string
	}{
		{vql.SessionOptions{UploadDir: store}, "ERROR:upload: permission denied: this session lacks FILESYSTEM_READ"},
		{readWrite(""), "ERROR:upload: this session has no uploads folder"},
	} {
		got, logs := vqltest.RowsWith(t, tc.opts, `SELECT upload(file="x", accessor="data") AS u FROM scope()`)
		if got != `[{"u":null}]` || len(logs) != 1 || logs[0] != tc.log {
			t.Errorf("refused upload: %s %q, want %q", got, logs, tc.log)
		}
	}
}

func mustDigest(text string) string { s, _ := digests(text); return s }

// quoteComponents is the JSON of name's components, without brackets.
func quoteComponents(name string) string {
	return `"` + strings.Join(strings.Split(name, "/"), `","`) + `"`
}
