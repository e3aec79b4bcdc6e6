package main

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: --version names the build: version, commit (when built
// from a git checkout) and Go release.
func TestVersion(t *testing.T) {
	r := runVQLQ(t, "", "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vqlq ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(r.stdout, " commit unknown (") {
		// TestMain builds with -buildvcs=auto; go stamps nothing in some
		// checkouts (a git worktree, for one).
		t.Logf("this build carries no commit: %s", r.stdout)
	} else if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if commit := strings.TrimSpace(string(head))[:12]; !strings.Contains(r.stdout, " commit "+commit) {
			t.Errorf("--version lacks the commit %s: %q", commit, r.stdout)
		}
	}
}

// TestFlagsOnEitherSideOfTheCommand: global flags may come before the
// subcommand or after it, as with git and go.
func TestFlagsOnEitherSideOfTheCommand(t *testing.T) {
	const q = "SELECT 1 AS a FROM scope()"
	data := t.TempDir()
	for _, args := range [][]string{
		{"query", "--format", "csv", "--data-dir", data, q},
		{"--format", "csv", "query", "--data-dir", data, q},
		{"--format=csv", "--data-dir", data, "query", q},
		{"query", q, "--format", "csv", "--data-dir", data},
	} {
		if r := runVQLQ(t, "", args...); r.code != 0 || r.stdout != "a\n1\n" {
			t.Errorf("%q: %+v", args, r)
		}
	}
}

// TestHelpFlags: --help on any command lists its flags on stdout and
// exits 0; an unknown flag is a usage error that names it.
func TestHelpFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"serve", "--help"}, "-listen"},
		{[]string{"query", "--help"}, "-format"},
		{[]string{"run", "-h"}, "-data-dir"},
		{[]string{"token", "create", "--help"}, "-role"},
		{[]string{"--help"}, "vqlq query [flags] QUERY|-"},
	} {
		r := runVQLQ(t, "", tt.args...)
		if r.code != 0 || !strings.Contains(r.stdout, tt.flag) || r.stderr != "" {
			t.Errorf("%q: %+v", tt.args, r)
		}
	}
	r := runVQLQ(t, "", "serve", "--listne", "x")
	if r.code != 2 || r.stderr != "flag provided but not defined: -listne\nvqlq serve --help lists its flags\n" {
		t.Errorf("unknown flag: %+v", r)
	}
}
