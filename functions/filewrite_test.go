package functions_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/vqltest"
	"github.com/vqlq/vqlq/vql"
)

// readWrite is a session that may read and write the host's files.
func readWrite(uploadDir string) vql.SessionOptions {
	return vql.SessionOptions{UploadDir: uploadDir, Identity: vql.Identity{Principal: "test",
		Granted: []vql.Permission{vql.PermFilesystemRead, vql.PermFilesystemWrite, vql.PermReadResults}}}
}

// TestFileWrites writes, copies and removes real files in a temporary
// folder and reads them back.
func TestFileWrites(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "src.txt"), []byte("source\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VQLQ_TEST_X", "val")
	tests := []struct{ name, query, want, log string }{
		{"copy the data into a new folder", `LET c <= copy(filename="hello", accessor="data", dest=D + "/out/x.txt", create_directories=TRUE) SELECT c = D + "/out/x.txt" AS ok, read_file(filename=D + "/out/x.txt") AS r FROM scope()`,
			`[{"ok":true,"r":"hello"}]`, ""},
		{"copy appends", `LET a <= copy(filename=D + "/src.txt", dest=D + "/app.txt") LET b <= copy(filename="more", accessor="data", dest=D + "/app.txt", append=TRUE) SELECT read_file(filename=D + "/app.txt") AS r FROM scope()`,
			`[{"r":"source\nmore"}]`, ""},
		{"copy sets the mode it is given", `LET c <= copy(filename="#!/bin/sh", accessor="data", dest=D + "/run.sh", permissions="rwxr-x---") SELECT Mode.String AS m FROM stat(filename=D + "/run.sh")`,
			`[{"m":"-rwxr-x---"}]`, ""},
		{"copy into a missing folder", `SELECT copy(filename="x", accessor="data", dest=D + "/no/such/x") AS c FROM scope()`, `[{"c":null}]`, "copy: open "},
		{"a bad mode", `SELECT copy(filename="x", accessor="data", dest=D + "/m", permissions="rwz") AS c FROM scope()`, `[{"c":null}]`, `copy: permissions "rwz": want an octal mode (0755), rwxr-xr-x or x`},
		{"rm removes", `LET c <= copy(filename="x", accessor="data", dest=D + "/gone") SELECT rm(filename=D + "/gone") AS removed, {SELECT * FROM stat(filename=D + "/gone")} AS left FROM scope()`,
			`[{"removed":true,"left":null}]`, "stat: lstat "},
		{"rm of nothing", `SELECT rm(filename=D + "/never") AS removed FROM scope()`, `[{"removed":false}]`, "rm: remove "},
		{"tempfile holds its data", `LET f <= tempfile(data=["a", "b"], extension=".txt") SELECT read_file(filename=f) AS r, f =~ "vqlq-[0-9]+\\.txt$" AS named FROM scope()`,
			`[{"r":"ab","named":true}]`, ""},
		{"tempfile refuses a separator in the extension", `SELECT tempfile(extension="/../x") AS f FROM scope()`, `[{"f":null}]`, `tempfile: extension "/../x" holds a separator`},
		{"expand", `SELECT expand(path="%VQLQ_TEST_X%/$VQLQ_TEST_X/${VQLQ_TEST_X}/%VQLQ_NOT_SET%") AS p FROM scope()`, `[{"p":"val/val/val/%VQLQ_NOT_SET%"}]`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, readWrite(""), `LET D = "`+dir+`" `+tc.query)
			if got != tc.want {
				t.Errorf("%s\n got: %s\nwant: %s\nlogs: %q", tc.query, got, tc.want, logs)
			}
			if tc.log != "" && !holds(logs, tc.log) {
				t.Errorf("%s: no log holds %q: %q", tc.query, tc.log, logs)
			}
		})
	}
}

func holds(logs []string, s string) bool {
	for _, l := range logs {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestTemporariesGoWithTheSession checks that tempfile() and tempdir()
// outlive the statement that made them and are removed, folder and
// contents, when the session is closed.
func TestTemporariesGoWithTheSession(t *testing.T) {
	s := vqlq.NewEngine().NewSession(readWrite(""))
	run := func(text string) string {
		t.Helper()
		rows, err := s.RunText(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		var out string
		for r := range rows {
			v, _ := r.Row.Get("v")
			out, _ = v.(string)
		}
		return out
	}
	dir := run(`LET d <= tempdir(remove_last=TRUE) SELECT d AS v FROM scope()`)
	file := run(`LET f <= tempfile(data="x") SELECT f AS v FROM scope()`)
	inner := run(`SELECT copy(filename="y", accessor="data", dest=d + "/inner") AS v FROM scope()`)
	for _, p := range []string{dir, file, inner} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%q is gone before the session ends: %v", p, err)
		}
	}
	s.Close()
	for _, p := range []string{dir, file} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%q is still there after Close: %v", p, err)
		}
	}
}

// TestWritersAndRefusals: write_csv and write_jsonl pass their rows on
// and leave the file, and every writing call needs FILESYSTEM_WRITE.
func TestWritersAndRefusals(t *testing.T) {
	dir := t.TempDir()
	rows := `query={SELECT _value AS n, if(condition=_value = 1, then=dict(k="v"), else="a,b") AS s FROM range(end=2)}`
	got, logs := vqltest.RowsWith(t, readWrite(""), `SELECT * FROM write_csv(filename="`+dir+`/o.csv", `+rows+`)`)
	if got != `[{"n":0,"s":"a,b"},{"n":1,"s":{"k":"v"}}]` {
		t.Errorf("write_csv passed on %s (%q)", got, logs)
	}
	got, logs = vqltest.RowsWith(t, readWrite(""), `SELECT * FROM write_jsonl(filename="`+dir+`/o.jsonl", `+rows+`)`)
	if got != `[{"n":0,"s":"a,b"},{"n":1,"s":{"k":"v"}}]` {
		t.Errorf("write_jsonl passed on %s (%q)", got, logs)
	}
	for name, want := range map[string]string{"o.csv": "n,s\n0,\"a,b\"\n1,\"{\"\"k\"\":\"\"v\"\"}\"\n", "o.jsonl": "{\"n\":0,\"s\":\"a,b\"}\n{\"n\":1,\"s\":{\"k\":\"v\"}}\n"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("%s holds %q (%v), want %q", name, b, err, want)
		}
	}
	readOnly := vql.SessionOptions{Identity: vql.Identity{Principal: "ro", Granted: []vql.Permission{vql.PermFilesystemRead}}}
	for _, tc := range []struct{ query, log string }{
		{`SELECT copy(filename="x", accessor="data", dest="` + dir + `/no") FROM scope()`, "copy: permission denied: ro lacks FILESYSTEM_WRITE"},
		{`SELECT rm(filename="` + dir + `/o.csv") FROM scope()`, "rm: permission denied: ro lacks FILESYSTEM_WRITE"},
		{`SELECT tempfile(data="x") FROM scope()`, "tempfile: permission denied: ro lacks FILESYSTEM_WRITE"},
		{`SELECT tempdir() FROM scope()`, "tempdir: permission denied: ro lacks FILESYSTEM_WRITE"},
		{`SELECT * FROM write_csv(filename="` + dir + `/no.csv", query={SELECT 1 AS a FROM scope()})`, "write_csv: permission denied: ro lacks FILESYSTEM_WRITE"},
		{`SELECT * FROM write_jsonl(filename="` + dir + `/no.jsonl", query={SELECT 1 AS a FROM scope()})`, "write_jsonl: permission denied: ro lacks FILESYSTEM_WRITE"},
		{`SELECT * FROM unzip(filename="` + dir + `/x.zip", output_directory="` + dir + `/x")`, "unzip: permission denied: ro lacks FILESYSTEM_WRITE"},
	} {
		_, logs := vqltest.RowsWith(t, readOnly, tc.query)
		if len(logs) != 1 || logs[0] != "ERROR:"+tc.log {
			t.Errorf("%s: logs %q, want only %q", tc.query, logs, tc.log)
		}
	}
	for _, name := range []string{"no", "no.csv", "no.jsonl", "x"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("a refused call made %s", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o.csv")); err != nil {
		t.Errorf("a refused rm removed o.csv: %v", err)
	}
}
