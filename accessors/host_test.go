package accessors_test

import (
	"archive/zip"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// hostFiles writes the files the accessor tests read: a text file, its
// gzip, and a zip with a member in a folder.
func hostFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lines.txt", "alpha\r\nbeta\ngamma\n")
	write("records.jsonl", "{\"a\":1}\n\nnot json\n{\"a\":2}\n")
	f, err := os.Create(filepath.Join(dir, "log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	gz.Write([]byte("{\"n\":1}\n{\"n\":2}\n"))
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, err = os.Create(filepath.Join(dir, "bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, text := range map[string]string{"top.csv": "x,y\n1,2\n3,4\n", "dir/inner.txt": "inside\n"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(text))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return dir
}

var readHost = vql.SessionOptions{Identity: vql.Identity{Principal: "test", Granted: []vql.Permission{vql.PermFilesystemRead}}}

// TestHostAccessors reads real files through file, auto, gzip and zip
// with every function and plugin that takes an accessor.
func TestHostAccessors(t *testing.T) {
	dir := hostFiles(t)
	sum := sha256.Sum256([]byte("alpha\r\nbeta\ngamma\n"))
	zipSpec := `pathspec(DelegatePath="` + dir + `/bundle.zip", Path="dir/inner.txt")`
	tests := []struct{ name, query, want string }{
		{"read_file of a file", `SELECT read_file(filename=D + "/lines.txt") AS t FROM scope()`, `[{"t":"alpha\r\nbeta\ngamma\n"}]`},
		{"read_file from an offset", `SELECT read_file(filename=D + "/lines.txt", accessor="file", offset=7, length=4) AS t FROM scope()`, `[{"t":"beta"}]`},
		{"read_file of a gzip file", `SELECT read_file(filename=D + "/log.gz", accessor="gzip") AS t FROM scope()`, `[{"t":"{\"n\":1}\n{\"n\":2}\n"}]`},
		{"read_file of a zip member", `SELECT read_file(filename=` + zipSpec + `, accessor="zip") AS t FROM scope()`, `[{"t":"inside\n"}]`},
		{"a zip member by the pathspec's text", `SELECT read_file(filename=` + zipSpec + `.String, accessor="zip") AS t FROM scope()`, `[{"t":"inside\n"}]`},
		{"auto opens a delegate-only pathspec", `SELECT read_file(filename=pathspec(DelegatePath=D + "/lines.txt"), length=5) AS t FROM scope()`, `[{"t":"alpha"}]`},
		{"hash streams the file", `SELECT hash(path=D + "/lines.txt", hashselect="SHA256") AS h FROM scope()`, `[{"h":{"SHA256":"` + hex.EncodeToString(sum[:]) + `"}}]`},
		{"parse_lines of a file", `SELECT * FROM parse_lines(filename=D + "/lines.txt")`, `[{"Line":"alpha"},{"Line":"beta"},{"Line":"gamma"}]`},
		{"parse_lines of several zip members", `SELECT * FROM parse_lines(filename=[` + zipSpec + `, pathspec(DelegatePath=D + "/bundle.zip", Path="top.csv")], accessor="zip")`, `[{"Line":"inside"},{"Line":"x,y"},{"Line":"1,2"},{"Line":"3,4"}]`},
		{"parse_jsonl of a file", `SELECT * FROM parse_jsonl(filename=D + "/records.jsonl")`, `[{"a":1},{"a":2}]`},
		{"parse_jsonl of a gzip file", `SELECT * FROM parse_jsonl(filename=D + "/log.gz", accessor="gzip")`, `[{"n":1},{"n":2}]`},
		{"parse_csv of a zip member", `SELECT * FROM parse_csv(filename=pathspec(DelegatePath=D + "/bundle.zip", Path="top.csv"), accessor="zip")`, `[{"x":"1","y":"2"},{"x":"3","y":"4"}]`},
		{"split_records of a file", `SELECT * FROM split_records(filenames=D + "/lines.txt", regex="a", columns=["p", "q"])`, `[{"p":"","q":"lph","Col2":""},{"p":"bet","q":""},{"p":"g","q":"mm","Col2":""}]`},
		{"parse_records_with_regex of a file", `SELECT * FROM parse_records_with_regex(file=D + "/lines.txt", regex="(?P<W>[a-z]+)a\\b")`, `[{"W":"alph"},{"W":"bet"},{"W":"gamm"}]`},
		{"stat of a zip member", `SELECT Name, Size, IsDir, OSPath.Path AS P FROM stat(filename=` + zipSpec + `, accessor="zip")`, `[{"Name":"inner.txt","Size":7,"IsDir":false,"P":"/dir/inner.txt"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, readHost, `LET D = "`+dir+`" `+tc.query)
			if got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", tc.query, got, tc.want, logs)
			}
		})
	}
}

// TestLargeFileStreams hashes and reads a file larger than anything the
// accessors would read whole (accessors.MaxParseBytes): a sparse file
// of zeros with a tail, so the test writes little.
func TestLargeFileStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = accessors.MaxParseBytes + 16<<20
	if _, err := f.WriteAt([]byte("TAIL"), size-4); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h := md5.New()
	zeros := make([]byte, 1<<20)
	for n := int64(0); n < size-4; n += int64(len(zeros)) {
		h.Write(zeros[:min(int64(len(zeros)), size-4-n)])
	}
	h.Write([]byte("TAIL"))
	want := `[{"h":{"MD5":"` + hex.EncodeToString(h.Sum(nil)) + `"},"t":"TAIL","s":` + strconv.Itoa(size) + `}]`
	got, logs := vqltest.RowsWith(t, readHost, `SELECT hash(path="`+path+`", hashselect="md5") AS h, read_file(filename="`+path+`", offset=`+strconv.Itoa(size-4)+`) AS t, {SELECT Size FROM stat(filename="`+path+`")}[0].Size AS s FROM scope()`)
	if got != want {
		t.Errorf("got:  %s\nwant: %s\nlogs: %q", got, want, logs)
	}
}
