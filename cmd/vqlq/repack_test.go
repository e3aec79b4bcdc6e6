package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepackEmbedsAConfigTheBinaryShows: repack() writes a configuration
// into a copy of the real vqlq binary — from a file (exe=) to a host file,
// and from an inventory tool (target=) into the uploads — and each copy
// still runs and shows the configuration it carries; the build itself
// carries none, and a file that is not a vqlq binary is refused.
func TestRepackEmbedsAConfigTheBinaryShows(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	if r := runVQLQ(t, "", "config", "show"); r.code != exitRuntime || !strings.Contains(r.stderr, "carries no configuration") {
		t.Fatalf("the build: %+v", r)
	}
	const config = "server: https://vqlq.example:8000\\nenroll_token: abc\\n"
	const want = "server: https://vqlq.example:8000\nenroll_token: abc\n"
	dest := filepath.Join(out, "vqlq-repacked")
	r := runVQLQ(t, "", "query", "--data-dir", data,
		"SELECT repack(exe='"+vqlqBin+"', config='"+config+"', dest_filename='"+dest+"') AS Written FROM scope()")
	if r.code != 0 || !strings.Contains(r.stdout, dest) {
		t.Fatalf("repack(exe=): %+v", r)
	}
	if info, err := os.Stat(dest); err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("the file written: %v %v", info, err)
	}
	shows := func(bin, what string) {
		t.Helper()
		res := runBin(t, bin, "config", "show")
		if res.code != 0 || res.stdout != want {
			t.Errorf("%s: config show: %+v", what, res)
		}
		if v := runBin(t, bin, "--version"); v.code != 0 || !strings.HasPrefix(v.stdout, "vqlq") {
			t.Errorf("%s: --version: %+v", what, v)
		}
	}
	shows(dest, "exe= to dest_filename=")

	r = runVQLQ(t, "", "query", "--data-dir", data, `
		LET _ <= inventory_add(tool='VqlqLinux', file='`+vqlqBin+`', filename='vqlq')
		SELECT repack(target='VqlqLinux', config='`+config+`', upload_name='Org_root_vqlq').StoredName AS Stored FROM scope()`)
	if r.code != 0 || !strings.Contains(r.stdout, `"Stored":"Org_root_vqlq"`) {
		t.Fatalf("repack(target=): %+v", r)
	}
	r = runVQLQ(t, "", "query", "--data-dir", data, "SELECT StoredPath FROM uploads() WHERE Name = 'Org_root_vqlq'")
	var stored string
	if i := strings.Index(r.stdout, `"StoredPath":"`); i >= 0 {
		stored = strings.SplitN(r.stdout[i+len(`"StoredPath":"`):], `"`, 2)[0]
	}
	if stored == "" {
		t.Fatalf("uploads(): %+v", r)
	}
	if err := os.Chmod(stored, 0o755); err != nil {
		t.Fatal(err)
	}
	shows(stored, "target= to upload_name=")

	notExe := filepath.Join(out, "setup.msi")
	os.WriteFile(notExe, []byte("not a vqlq binary"), 0o644)
	r = runVQLQ(t, "", "query", "--data-dir", data,
		"SELECT repack(exe='"+notExe+"', config='x: 1', dest_filename='"+filepath.Join(out, "no")+"') FROM scope()")
	if r.code != exitRuntime || !strings.Contains(r.stderr, "no vqlq configuration block in the file") {
		t.Errorf("not a vqlq binary: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(out, "no")); err == nil {
		t.Error("a refused repack wrote its file")
	}
}

// runBin runs another binary as runVQLQ runs vqlq.
func runBin(t *testing.T, bin string, args ...string) result {
	t.Helper()
	saved := vqlqBin
	vqlqBin = bin
	defer func() { vqlqBin = saved }()
	return runVQLQ(t, "", args...)
}
