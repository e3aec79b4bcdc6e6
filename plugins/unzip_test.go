package plugins_test

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

var readWriteFiles = vql.SessionOptions{Identity: vql.Identity{Principal: "test",
	Granted: []vql.Permission{vql.PermFilesystemRead, vql.PermFilesystemWrite}}}

// hostileZip writes a zip whose members try to leave the folder they
// are extracted to: by .., by an absolute name, by a backslash, and by a
// link (which is not made: the file after it lands in a real folder).
func hostileZip(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	add := func(h *zip.FileHeader, text string) {
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(text))
	}
	add(&zip.FileHeader{Name: "a.txt"}, "A")
	add(&zip.FileHeader{Name: "d/b.txt"}, "BB")
	add(&zip.FileHeader{Name: "../evil.txt"}, "no")
	add(&zip.FileHeader{Name: "/abs.txt"}, "no")
	add(&zip.FileHeader{Name: `..\win.txt`}, "no")
	link := &zip.FileHeader{Name: "up"}
	link.SetMode(os.ModeSymlink | 0o777)
	add(link, "..")
	add(&zip.FileHeader{Name: "up/through.txt"}, "no")
	add(&zip.FileHeader{Name: "d/e/../c.txt"}, "C")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func hostileTarGz(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, m := range []struct {
		h    tar.Header
		text string
	}{
		{tar.Header{Name: "t/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "t/one.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3}, "one"},
		{tar.Header{Name: "t/link", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, ""},
		{tar.Header{Name: "../../tar-evil.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2}, "no"},
	} {
		if err := tw.WriteHeader(&m.h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.text))
	}
	tw.Close()
	gz.Close()
	f.Close()
}

func TestUnzip(t *testing.T) {
	dir := t.TempDir()
	hostileZip(t, filepath.Join(dir, "h.zip"))
	hostileTarGz(t, filepath.Join(dir, "h.tar.gz"))
	out := filepath.Join(dir, "deep", "out")
	tests := []struct{ name, query, want string }{
		{"a zip: only what stays inside", `SELECT OriginalPath, relpath(path=NewPath, base=O) AS New, Size FROM unzip(filename=D + "/h.zip", output_directory=O + "/z")`,
			`[{"OriginalPath":"a.txt","New":"z/a.txt","Size":1},{"OriginalPath":"d/b.txt","New":"z/d/b.txt","Size":2},{"OriginalPath":"up/through.txt","New":"z/up/through.txt","Size":2},{"OriginalPath":"d/e/../c.txt","New":"z/d/c.txt","Size":1}]`},
		{"a filter", `SELECT OriginalPath FROM unzip(filename=D + "/h.zip", output_directory=O + "/f", filename_filter="^d/")`,
			`[{"OriginalPath":"d/b.txt"},{"OriginalPath":"d/e/../c.txt"}]`},
		{"a tar.gz", `SELECT OriginalPath, Size, read_file(filename=NewPath) AS Text FROM unzip(filename=D + "/h.tar.gz", output_directory=O + "/t")`,
			`[{"OriginalPath":"t/one.txt","Size":3,"Text":"one"}]`},
		{"a zip member is read from its zip", `SELECT OriginalPath FROM unzip(filename=pathspec(DelegatePath=D + "/h.zip", Path="a.txt"), accessor="zip", output_directory=O + "/m", type="zip")`,
			`[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, readWriteFiles, `LET D = "`+dir+`" LET O = "`+out+`" `+tc.query)
			if got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", tc.query, got, tc.want, logs)
			}
		})
	}
	if st, err := os.Lstat(filepath.Join(out, "z", "up")); err != nil || !st.IsDir() {
		t.Errorf("z/up should be a plain folder: %v, %v", st, err)
	}
	for _, p := range []string{"deep/evil.txt", "deep/win.txt", "abs.txt", "tar-evil.txt", "deep/out/tar-evil.txt", "deep/through.txt", "deep/out/t/t/link"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("unzip made %s (%v)", p, err)
		}
	}
	if _, err := os.Lstat("/abs.txt"); err == nil {
		t.Errorf("unzip wrote /abs.txt")
	}
	// A link already in the folder is not a way out either.
	if err := os.MkdirAll(filepath.Join(out, "planted"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../..", filepath.Join(out, "planted", "up")); err != nil {
		t.Fatal(err)
	}
	_, logs := vqltest.RowsWith(t, readWriteFiles, `SELECT * FROM unzip(filename="`+dir+`/h.zip", output_directory="`+out+`/planted")`)
	want := []string{
		`ERROR:unzip: "../evil.txt": not a name inside the output directory, skipped`,
		`ERROR:unzip: "/abs.txt": not a name inside the output directory, skipped`,
		`ERROR:unzip: "..\\win.txt": not a name inside the output directory, skipped`,
		`WARN:unzip: up: a link, not made`,
		`ERROR:unzip: up/through.txt: mkdirat up: statat up: path escapes from parent`,
	}
	if len(logs) != len(want) {
		t.Fatalf("logs %q, want %q", logs, want)
	}
	for i := range want {
		if logs[i] != want[i] {
			t.Errorf("log %d: %q, want %q", i, logs[i], want[i])
		}
	}
}
