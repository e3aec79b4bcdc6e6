//go:build linux

package vqlq_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// examplesBackend is a throw-away instance with the examples folder as
// its definitions, as `--definitions artifacts/examples` gives.
func examplesBackend(t *testing.T) *runner.Backend {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("artifacts", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	flags := &runner.StoreFlags{DataDir: filepath.Join(t.TempDir(), "data"), Definitions: dir,
		Org: queues.DefaultOrg, Sync: "none", Retention: time.Hour}
	if _, err := flags.Check(); err != nil {
		t.Fatal(err)
	}
	b := &runner.Backend{Flags: flags}
	t.Cleanup(func() { b.Close() })
	return b
}

// runEvents runs an event query as the owner until the test ends and
// sends its rows; ERROR messages fail the test.
func runEvents(t *testing.T, b *runner.Backend, query string) <-chan *ordereddict.Dict {
	t.Helper()
	sess := b.Engine().NewSession(vql.SessionOptions{Identity: b.Owner(queues.DefaultOrg),
		OnLog: func(msg vql.Message) {
			if msg.Level == vql.LevelError {
				t.Errorf("%s", msg.Text)
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	rows, err := sess.RunText(ctx, query)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	out := make(chan *ordereddict.Dict, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range rows {
			select {
			case out <- r.Row:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return out
}

// member is a column of row, as JSON.
func member(row *ordereddict.Dict, name string) string {
	v, _ := row.Get(name)
	b, _ := value.EncodeJSON(v)
	return string(b)
}

// jsonOf is row as JSON.
func jsonOf(row *ordereddict.Dict) string {
	b, _ := value.EncodeJSON(row)
	return string(b)
}

// until makes things (act is called every tick, a bounded number of
// times) until a row that accept takes arrives; the diff of the examples
// takes its baseline first, so what is made before that is not reported.
func until(t *testing.T, rows <-chan *ordereddict.Dict, step string, act func(), accept func(*ordereddict.Dict) bool) *ordereddict.Dict {
	t.Helper()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	act()
	for tries := 0; tries < 60; {
		select {
		case r := <-rows:
			if accept(r) {
				return r
			}
		case <-tick.C:
			act()
			tries++
		}
	}
	t.Fatalf("%s: no row", step)
	return nil
}

// TestExampleProcessStarts starts real `sleep 30` processes and sees a
// start row for one, then its exit row once it is killed.
func TestExampleProcessStarts(t *testing.T) {
	rows := runEvents(t, examplesBackend(t), `SELECT Action, Pid, Name, CommandLine
		FROM Artifact.Linux.Events.ProcessStarts(Period=0.1, ProcessRegex="^sleep$", IncludeExits=TRUE)`)
	procs := map[int64]*exec.Cmd{}
	t.Cleanup(func() {
		for _, c := range procs {
			c.Process.Kill()
			c.Wait()
		}
	})
	started := until(t, rows, "a process starts", func() {
		c := exec.Command("sleep", "30")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		procs[int64(c.Process.Pid)] = c
	}, func(r *ordereddict.Dict) bool {
		pid, _ := r.GetInt64("Pid")
		return member(r, "Action") == `"start"` && procs[pid] != nil
	})
	if got, want := member(started, "CommandLine")+" "+member(started, "Name"), `"sleep 30" "sleep"`; got != want {
		t.Errorf("start row %s: CommandLine and Name %s, want %s", jsonOf(started), got, want)
	}
	pid, _ := started.GetInt64("Pid")
	c := procs[pid]
	delete(procs, pid)
	c.Process.Kill()
	c.Wait()
	until(t, rows, "the process exits", func() {}, func(r *ordereddict.Dict) bool {
		p, _ := r.GetInt64("Pid")
		return member(r, "Action") == `"exit"` && p == pid
	})
}

// TestExampleListeningSockets opens real TCP and UDP sockets on loopback
// in this process and sees a row for each, with this process's program.
func TestExampleListeningSockets(t *testing.T) {
	rows := runEvents(t, examplesBackend(t), `SELECT Action, Pid, Exe, Type, Address, Port
		FROM Artifact.Linux.Events.ListeningSockets(Period=0.1) WHERE Pid = getpid()`)
	exe, _ := os.Executable()
	var ports []int64
	var closers []func() error
	t.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	listen := func(network string) func() {
		return func() {
			var addr net.Addr
			if network == "udp" {
				c, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr, closers = c.LocalAddr(), append(closers, c.Close)
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr, closers = l.Addr(), append(closers, l.Close)
			}
			_, port, _ := net.SplitHostPort(addr.String())
			n, _ := strconv.ParseInt(port, 10, 64)
			ports = append(ports, n)
		}
	}
	for _, typ := range []string{"TCP", "UDP"} {
		r := until(t, rows, typ+" socket", listen(strings.ToLower(typ)), func(r *ordereddict.Dict) bool {
			port, _ := r.GetInt64("Port")
			return member(r, "Type") == `"`+typ+`"` && slices.Contains(ports, port)
		})
		if got, want := member(r, "Action")+" "+member(r, "Address")+" "+member(r, "Exe"), `"listen" "127.0.0.1" "`+exe+`"`; got != want {
			t.Errorf("%s row %s: %s, want %s", typ, jsonOf(r), got, want)
		}
	}
}

// TestExampleAuthLog follows a file standing in for auth.log (given as
// the AuthLogFiles parameter) and reads each kind of line it knows, in
// both of rsyslog's timestamp formats; a line of another kind is left
// out.
func TestExampleAuthLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The parameter is text, as a client monitoring table gives it.
	rows := runEvents(t, examplesBackend(t), `SELECT Host, Program, Pid, Event, Result, User, By, IP, Port, Method, Command
		FROM Artifact.Linux.Events.AuthLog(AuthLogFiles='["`+log+`"]')`)
	cases := []struct{ line, want string }{
		{"Dec  4 20:25:34 web-1 sshd[1234]: Failed password for invalid user bob from 192.0.2.7 port 50022 ssh2",
			`{"Host":"web-1","Program":"sshd","Pid":1234,"Event":"ssh_login","Result":"failure","User":"bob","By":null,"IP":"192.0.2.7","Port":50022,"Method":"password","Command":null}`},
		{"2026-12-04T20:25:35.123456+00:00 web-1 sshd[1235]: Accepted publickey for alice from 192.0.2.8 port 50023 ssh2: ED25519 SHA256:abc",
			`{"Host":"web-1","Program":"sshd","Pid":1235,"Event":"ssh_login","Result":"success","User":"alice","By":null,"IP":"192.0.2.8","Port":50023,"Method":"publickey","Command":null}`},
		{"Dec  4 20:25:36 web-1 CRON[99]: pam_unix(cron:session): session closed for user root", ""},
		{"Dec  4 20:25:36 web-1 sshd[1236]: Invalid user admin from 192.0.2.9 port 40000",
			`{"Host":"web-1","Program":"sshd","Pid":1236,"Event":"ssh_login","Result":"failure","User":"admin","By":null,"IP":"192.0.2.9","Port":40000,"Method":null,"Command":null}`},
		{"Dec  4 20:25:37 web-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/ls -l",
			`{"Host":"web-1","Program":"sudo","Pid":null,"Event":"sudo","Result":"success","User":"alice","By":null,"IP":null,"Port":null,"Method":null,"Command":"/usr/bin/ls -l"}`},
		{"Dec  4 20:25:38 web-1 sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
			`{"Host":"web-1","Program":"sudo","Pid":null,"Event":"sudo","Result":"failure","User":"alice","By":null,"IP":null,"Port":null,"Method":null,"Command":"/usr/bin/id"}`},
		{"Dec  4 20:25:39 web-1 sshd[1237]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.7  user=root",
			`{"Host":"web-1","Program":"sshd","Pid":1237,"Event":"auth","Result":"failure","User":"root","By":null,"IP":"192.0.2.7","Port":null,"Method":null,"Command":null}`},
		{"Dec  4 20:25:40 web-1 su: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
			`{"Host":"web-1","Program":"su","Pid":null,"Event":"session","Result":"success","User":"root","By":"alice","IP":null,"Port":null,"Method":null,"Command":null}`},
	}
	var text strings.Builder
	for _, c := range cases {
		text.WriteString(c.line + "\n")
	}
	// watch_syslog reads from the end of the file it opens: the lines
	// are added once it holds the file open.
	waitHeldOpen(t, log)
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range cases {
		if c.want == "" {
			continue
		}
		select {
		case r := <-rows:
			if got := jsonOf(r); got != c.want {
				t.Errorf("%s\n got  %s\n want %s", c.line, got, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no row for %s", c.line)
		}
	}
}

// waitHeldOpen waits, a bounded while, until this process holds path
// open.
func waitHeldOpen(t *testing.T, path string) {
	t.Helper()
	for range 400 {
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == path {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s was never opened", path)
}
