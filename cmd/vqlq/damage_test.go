package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// folderHashes hashes every regular file under dir, by relative path.
func folderHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err // folders, and the socket a killed server left
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyFolder copies the regular files of src into a new folder dst.
func copyFolder(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// wantRefusal checks that a command refused a damaged folder, saying
// which file, what is wrong and what to do.
func wantRefusal(t *testing.T, what string, r result, dir, problem string) {
	t.Helper()
	for _, want := range []string{"data folder " + dir + " is damaged", filepath.Join(dir, "MANIFEST"), problem, "changed nothing", "Restore the folder from a backup", "move it aside"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("%s: stderr lacks %q", what, want)
		}
	}
	if r.code != 1 || r.stdout != "" {
		t.Errorf("%s: exit %d, stdout %q", what, r.code, r.stdout)
	}
	if t.Failed() {
		t.Fatalf("%s: %+v", what, r)
	}
}

// A data folder whose MANIFEST is lost or damaged is refused, not
// emptied: the read-only source() query fails naming the MANIFEST and
// what to do, and every file of the folder is byte-identical afterwards.
// The intact folder is read by the same query, and by queues(),
// artifact_definitions() and consumers(), without a byte changed.
func TestDamagedManifestIsRefusedAndNothingChanges(t *testing.T) {
	e := newQueueEnv(t)
	r := runVQLQ(t, "", e.args(`SELECT count() AS n FROM range(end=20000) WHERE send_event(artifact='Server.Events.Receive', row=dict(i=_value)) GROUP BY 1`)...)
	if r.code != 0 || r.stdout != "{\"n\":20000}\n" {
		t.Fatalf("sending 20,000 events: %+v", r)
	}
	manifest := func(dir string) string { return filepath.Join(dir, "MANIFEST") }
	size, err := os.Stat(manifest(e.data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		damage func(path string) error
		ok     bool
		want   string
	}{
		{"intact", func(string) error { return nil }, true, ""},
		{"missing", os.Remove, false, "it is missing"},
		{"empty", func(p string) error { return os.Truncate(p, 0) }, false, "it is empty"},
		{"cut inside the header", func(p string) error { return os.Truncate(p, 5) }, false, "inside its 8-byte header"},
		{"cut after the header", func(p string) error { return os.Truncate(p, 8) }, false, "does not list the table files"},
		{"cut inside the last record", func(p string) error { return os.Truncate(p, size.Size()-3) }, false, "cut inside a record"},
		{"garbage", func(p string) error {
			return os.WriteFile(p, []byte(strings.Repeat("not a manifest\n", 40)), 0o600)
		}, false, "does not start with badger's magic"},
		{"a table file removed", func(p string) error {
			tables, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "*.sst"))
			if len(tables) == 0 {
				return os.ErrNotExist
			}
			return os.Remove(tables[0])
		}, false, "it lists table files that are missing: 0000"},
		{"a flipped byte", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)-2] ^= 0xff
			return os.WriteFile(p, b, 0o600)
		}, false, "fails its checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			copyFolder(t, e.data, dir)
			if err := tt.damage(manifest(dir)); err != nil {
				t.Fatal(err)
			}
			before := folderHashes(t, dir)
			r := runVQLQ(t, "", "query", "--data-dir", dir, "--definitions", e.defs, "--format", "jsonl",
				`SELECT count() AS n FROM source(artifact='Server.Events.Receive') GROUP BY 1`)
			if tt.ok {
				if r.code != 0 || r.stdout != "{\"n\":20000}\n" {
					t.Fatalf("%+v", r)
				}
				// The other commands that only read leave it as it was too.
				for _, q := range []string{"SELECT name, stored FROM queues()", "SELECT name FROM artifact_definitions()", "SELECT * FROM consumers()"} {
					if r := runVQLQ(t, "", "query", "--data-dir", dir, "--definitions", e.defs, q); r.code != 0 {
						t.Fatalf("%s: %+v", q, r)
					}
				}
			} else {
				wantRefusal(t, "query", r, dir, tt.want)
				// The server, which opens the folder read-write, refuses it too.
				wantRefusal(t, "serve", serveRefused(t, "--data-dir", dir, "--definitions", e.defs), dir, tt.want)
			}
			if after := folderHashes(t, dir); !reflect.DeepEqual(before, after) {
				t.Fatalf("the folder changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}
