//go:build linux

package host_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// entry is a line journalctl --output=json printed on a real machine,
// for an entry written with systemd-cat.
const entry = `{"PRIORITY":"6","_STREAM_ID":"f1fb03aa478c4c6b95b5e1cc544f9fcf","_HOSTNAME":"vm","_UID":"0","_TRANSPORT":"stdout","_PID":"24580","__MONOTONIC_TIMESTAMP":"4031519662","__CURSOR":"s=9241;i=15a","MESSAGE":"hello-from-test","__REALTIME_TIMESTAMP":"1796415934029453","SYSLOG_IDENTIFIER":"vqlqtest","__SEQNUM":"346","CODE":[104,105,10]}`

// fakeJournalctl puts a journalctl first on the PATH that records its
// arguments, prints lines and then waits, as the real one does when
// following; it returns the file its arguments go to.
func fakeJournalctl(t *testing.T, lines ...string) string {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\n"
	for _, l := range lines {
		script += "echo '" + l + "'\n"
	}
	script += "exec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "journalctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

// TestWatchJournaldRows runs watch_journald() against a stand-in
// journalctl (a real process printing a real entry) and checks the rows'
// shape and the command it was given.
func TestWatchJournaldRows(t *testing.T) {
	argsFile := fakeJournalctl(t, entry, "not json", entry)
	cases := []struct {
		name, query, want, wantArgs string
	}{
		{"parsed as Velociraptor's System and EventData",
			`SELECT * FROM watch_journald() LIMIT 1`,
			`[{"System":{"Seq":346,"Timestamp":"2026-12-04T20:25:34.029453Z","_STREAM_ID":"f1fb03aa478c4c6b95b5e1cc544f9fcf","_HOSTNAME":"vm","_UID":"0","_TRANSPORT":"stdout","_PID":"24580","__MONOTONIC_TIMESTAMP":"4031519662","__CURSOR":"s=9241;i=15a"},` +
				`"EventData":{"PRIORITY":6,"MESSAGE":"hello-from-test","SYSLOG_IDENTIFIER":"vqlqtest","CODE":"hi\n"}}]`,
			"--follow --lines=0 --output=json --quiet --no-pager"},
		{"raw, from files; a line that is not JSON is skipped",
			`SELECT MESSAGE, PRIORITY, __SEQNUM FROM watch_journald(filename=["/j/a.journal", pathspec(parse="/j/b.journal")], raw=TRUE) LIMIT 2`,
			`[{"MESSAGE":"hello-from-test","PRIORITY":"6","__SEQNUM":"346"},{"MESSAGE":"hello-from-test","PRIORITY":"6","__SEQNUM":"346"}]`,
			"--follow --lines=0 --output=json --quiet --no-pager --file=/j/a.journal --file=/j/b.journal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, logs := vqltest.RowsWith(t, all, c.query)
			if got != c.want {
				t.Errorf("got  %s\nwant %s\nlogs %q", got, c.want, logs)
			}
			args, _ := os.ReadFile(argsFile)
			if strings.TrimSpace(string(args)) != c.wantArgs {
				t.Errorf("journalctl ran with %q, want %q", args, c.wantArgs)
			}
		})
	}
}

func TestWatchJournaldArgs(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	vqltest.RunWith(t, all, []vqltest.Case{
		{"no journalctl", `SELECT * FROM watch_journald()`, `[]`, "watch_journald: journalctl is not installed"},
		{"another accessor", `SELECT * FROM watch_journald(filename="x", accessor="data")`, `[]`, `watch_journald: accessor "data": only the host's files can be read`},
	})
}

// journaldSocket is where journald takes entries in its native protocol.
const journaldSocket = "/run/systemd/journal/socket"

// TestWatchJournald follows this machine's real journal: it writes
// entries to journald and sees one come back. It is skipped, saying why,
// where no journal can be written and read.
func TestWatchJournald(t *testing.T) {
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("journalctl is not installed: watch_journald reads the journal through it")
	}
	if _, err := os.Stat(journaldSocket); err != nil {
		t.Skipf("no journald runs here (%v): no entry can be written to be followed", err)
	}
	if out, _ := exec.Command("journalctl", "--lines=1", "--quiet", "--output=json", "--no-pager").Output(); len(out) == 0 {
		t.Skip("journalctl shows no entries: the journal is empty or this user may not read it")
	}
	conn, err := net.Dial("unixgram", journaldSocket)
	if err != nil {
		t.Skipf("journald's socket does not take entries: %v", err)
	}
	defer conn.Close()
	id := fmt.Sprintf("vqlq-test-%d", os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows, ended := start(t, ctx, `SELECT EventData.MESSAGE AS Message, EventData.PRIORITY AS Priority, System._TRANSPORT AS Transport
		FROM watch_journald() WHERE EventData.SYSLOG_IDENTIFIER = "`+id+`" LIMIT 1`)
	// journalctl starts at the end: write until an entry is seen.
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("no entry written to journald was followed")
		}
		fmt.Fprintf(conn, "MESSAGE=hello from vqlq\nPRIORITY=5\nSYSLOG_IDENTIFIER=%s\n", id)
		select {
		case r := <-rows:
			if want := `{"Message":"hello from vqlq","Priority":5,"Transport":"journal"}`; r != want {
				t.Fatalf("got %s, want %s", r, want)
			}
			waitEnd(t, ended)
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
