package host_test

import (
	"archive/zip"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestSQLite queries a real database made in the test's folder.
func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "history.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT, visits INTEGER, score REAL, icon BLOB)",
		"INSERT INTO urls VALUES (1, 'https://example.org/', 3, 0.5, x'414243'), (2, 'https://example.com/a', 1, NULL, NULL), (3, 'file:///etc/passwd', 7, 2.25, x'')",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	text := filepath.Join(dir, "notes.txt")
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(text, []byte("just some text, long enough to have a header\n"), 0o644)
	os.WriteFile(empty, nil, 0o644)
	zipped := filepath.Join(dir, "profile.zip")
	zipFile(t, zipped, "inner/history.db", dbPath)
	q := func(query string) string { return `SELECT * FROM sqlite(file="` + dbPath + `", query="` + query + `")` }
	vqltest.RunWith(t, all, []vqltest.Case{
		{"every type", q("SELECT * FROM urls ORDER BY id"),
			`[{"id":1,"url":"https://example.org/","visits":3,"score":0.5,"icon":"ABC"},{"id":2,"url":"https://example.com/a","visits":1,"score":null,"icon":null},{"id":3,"url":"file:///etc/passwd","visits":7,"score":2.25,"icon":""}]`, ""},
		{"positional args", `SELECT url FROM sqlite(file="` + dbPath + `", query="SELECT url FROM urls WHERE visits > ? AND id < ? ORDER BY id", args=[2, 3])`,
			`[{"url":"https://example.org/"}]`, ""},
		{"one value as args", `SELECT id FROM sqlite(file="` + dbPath + `", query="SELECT id FROM urls WHERE url LIKE ?", args="%example.com%")`,
			`[{"id":2}]`, ""},
		{"named args", `SELECT id FROM sqlite(file="` + dbPath + `", query="SELECT id FROM urls WHERE visits = :v", args=dict(v=7))`,
			`[{"id":3}]`, ""},
		{"LIMIT stops an endless query", q("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT i FROM n") + " LIMIT 2",
			`[{"i":1},{"i":2}]`, ""},
		{"a read-only pragma", q("SELECT name FROM pragma_table_info('urls') WHERE pk = 1"), `[{"name":"id"}]`, ""},
		{"a pragma that sets is refused", q("PRAGMA query_only = 0"), `[]`, "not authorized"},
		{"writes are refused", q("INSERT INTO urls (url) VALUES ('x')"), `[]`, "not authorized"},
		{"the file is unchanged", q("SELECT count(*) AS n FROM urls"), `[{"n":3}]`, ""},
		{"ATTACH is refused", q("ATTACH '" + filepath.Join(dir, "new.db") + "' AS x"), `[]`, "not authorized"},
		{"bad SQL", q("SELEC 1"), `[]`, "syntax error"},
		{"not a database", `SELECT * FROM sqlite(file="` + text + `", query="SELECT 1")`, `[]`, text + ` is not an SQLite database (it does not begin with "SQLite format 3")`},
		{"an empty file", `SELECT * FROM sqlite(file="` + empty + `", query="SELECT 1")`, `[]`, empty + ` is not an SQLite database`},
		{"no such file", `SELECT * FROM sqlite(file="` + filepath.Join(dir, "none.db") + `", query="SELECT 1")`, `[]`, "no such file or directory"},
		{"data that is no database", `SELECT * FROM sqlite(file="x", accessor="data", query="SELECT 1")`, `[]`, `sqlite: x is not an SQLite database`},
		{"a glob's OSPath, as artifacts pass it", `SELECT * FROM foreach(row={SELECT OSPath FROM glob(globs="` + dir + `/*.db")}, query={SELECT OSPath.Basename AS DB, count FROM sqlite(file=OSPath, query="SELECT count(*) AS count FROM urls")}) WHERE count`,
			`[{"DB":"history.db","count":3}]`, "empty.db is not an SQLite database"},
		{"a database in a zip", `SELECT id FROM sqlite(file=pathspec(DelegatePath="` + zipped + `", Path="inner/history.db"), accessor="zip", query="SELECT id FROM urls WHERE visits = 7")`,
			`[{"id":3}]`, ""},
		{"an unknown accessor", `SELECT * FROM sqlite(file="x", accessor="nosuch", query="SELECT 1")`, `[]`, `sqlite: unknown accessor "nosuch"`},
	})
	if _, err := os.Stat(filepath.Join(dir, "new.db")); err == nil {
		t.Error("ATTACH created a file")
	}
}

// zipFile writes a zip archive holding the file src as member.
func zipFile(t *testing.T, archive, member, src string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create(member)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
