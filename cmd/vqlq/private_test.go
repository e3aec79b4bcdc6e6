//go:build unix

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// usualUmask gives the processes the test starts the common umask 0o022,
// under which badger's files used to come out 0644: the modes checked
// below are vqlq's doing, not the test environment's.
func usualUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

// assertPrivate walks a data folder: every folder must be exactly 0700,
// every file (the socket included) exactly 0600. It reports each entry
// that differs and returns the names it saw.
func assertPrivate(t *testing.T, dir string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // badger removed it meanwhile
			}
			return err
		}
		fi, err := d.Info()
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		seen[d.Name()] = true
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s is %v (%04o), want %04o", path, fi.Mode(), got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// hasSuffix says whether any name seen ends with suffix.
func hasSuffix(seen map[string]bool, suffix string) bool {
	for name := range seen {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// A query that sends an event creates the data folder and every file in
// it, badger's tables and value log included, private.
func TestQueryDataFolderIsPrivate(t *testing.T) {
	usualUmask(t)
	data := filepath.Join(t.TempDir(), "data")
	defs := t.TempDir()
	os.WriteFile(filepath.Join(defs, "r.yaml"), []byte(receiveDef), 0o644)
	r := runVQLQ(t, "", "query", "--data-dir", data, "--definitions", defs,
		"SELECT send_event(artifact='Server.Events.Receive', row=dict(a=1)) FROM scope()")
	if r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("%+v", r)
	}
	seen := assertPrivate(t, data)
	for _, suffix := range []string{".sst", ".vlog", "MANIFEST", "vqlq.pid"} {
		if !hasSuffix(seen, suffix) {
			t.Errorf("no %s file in the data folder (saw %v): nothing was checked", suffix, seen)
		}
	}
	// A second process on the folder does not warn, and reads the event.
	r = runVQLQ(t, "", "query", "--data-dir", data, "--definitions", defs, "--format", "jsonl", "SELECT a FROM source(artifact='Server.Events.Receive')")
	if r.code != 0 || r.stdout != "{\"a\":1}\n" || r.stderr != "" {
		t.Errorf("%+v", r)
	}
	assertPrivate(t, data)
}

// The server: its socket is 0600 as soon as it says it listens, and the
// folder is private while it runs and after it has stored events and
// stopped.
func TestServeDataFolderAndSocketArePrivate(t *testing.T) {
	usualUmask(t)
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	sock := filepath.Join(p.data, "vqlq.sock")
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket is %v, want a socket of mode 0600", fi.Mode())
	}
	tok := p.token(t, "--name", "admin", "--role", "admin")
	for i := range 20 {
		status, body, err := post(p.url+"/api/v1/orgs/"+rootOrg+"/events/Server.Events.Receive", tok, `{"i":`+string(rune('0'+i%10))+`}`)
		if err != nil || status != 200 {
			t.Fatalf("%d %s %v", status, body, err)
		}
	}
	if !assertPrivate(t, p.data)["vqlq.sock"] {
		t.Error("the walk did not see the socket")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	seen := assertPrivate(t, p.data)
	for _, suffix := range []string{".sst", ".vlog", "MANIFEST"} {
		if !hasSuffix(seen, suffix) {
			t.Errorf("no %s file in the data folder (saw %v)", suffix, seen)
		}
	}
	if strings.Contains(p.stderr.String(), "warning") {
		t.Errorf("serve warned: %s", p.stderr)
	}
}

// An existing folder open to other users gets one warning line naming it,
// its mode and the fix; vqlq changes no mode and still works on it. The
// same for a private folder holding a file others could read.
func TestExistingOpenDataFolderWarns(t *testing.T) {
	usualUmask(t)
	data := filepath.Join(t.TempDir(), "data")
	defs := t.TempDir()
	os.WriteFile(filepath.Join(defs, "r.yaml"), []byte(receiveDef), 0o644)
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755)
	r := runVQLQ(t, "", "query", "--data-dir", data, "--definitions", defs, "--format", "jsonl",
		"SELECT send_event(artifact='Server.Events.Receive', row=dict(a=1)).a AS a FROM scope()")
	want := "vqlq: warning: data folder " + data + " is mode 0755, open to other local users (it holds the events and the API token hashes); run: chmod 700 " + data + "\n"
	if r.code != 0 || r.stdout != "{\"a\":1}\n" || r.stderr != want {
		t.Errorf("got %+v\nwant stderr %q", r, want)
	}
	if fi, _ := os.Stat(data); fi.Mode().Perm() != 0o755 {
		t.Errorf("vqlq changed the folder's mode to %v", fi.Mode())
	}

	// The owner follows the advice; a file left 0644 (as older versions
	// of vqlq made them) is still reported, and left alone.
	os.Chmod(data, 0o700)
	var vlog string
	entries, _ := os.ReadDir(data)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".vlog") {
			vlog = filepath.Join(data, e.Name())
			break
		}
	}
	if vlog == "" {
		t.Fatalf("no value log in %v", entries)
	}
	os.Chmod(vlog, 0o644)
	r = runVQLQ(t, "", "query", "--data-dir", data, "--definitions", defs, "--format", "jsonl", "SELECT a FROM source(artifact='Server.Events.Receive')")
	if !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "vqlq: warning: data folder "+data+" holds ") ||
		!strings.HasSuffix(r.stderr, " of mode 0644, open to other local users (the folder itself is private); run: chmod -R go-rwx "+data+"\n") {
		t.Errorf("warning for a file: %q", r.stderr)
	}
	if r.code != 0 || r.stdout != "{\"a\":1}\n" {
		t.Errorf("%+v", r)
	}
	if fi, err := os.Stat(vlog); err == nil && fi.Mode().Perm() != 0o644 {
		t.Errorf("vqlq changed %s to %v", vlog, fi.Mode())
	}
}

// selfSigned writes a certificate for 127.0.0.1 and localhost, and its
// key, into a temporary folder.
func selfSigned(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "vqlq test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile, cert
}

// With --tls-cert and --tls-key the API is HTTPS only (TLS 1.2 or later):
// a client trusting the certificate sends an event with an admin token; a
// plain HTTP request, a TLS 1.1 client and a client that does not trust
// the certificate get nothing stored.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t)
	p := startServe(t, map[string]string{"r.yaml": receiveDef}, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(p.url, "https://127.0.0.1:") {
		t.Fatalf("serve listens on %s, want https://127.0.0.1:…", p.url)
	}
	tok := p.token(t, "--name", "admin", "--role", "admin")
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	events := p.url + "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive"
	send := func(c *http.Client, url, body string) (*http.Response, string, error) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), nil
	}
	resp, body, err := send(client, events, `{"over":"https"}`)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(body, `"over":"https"`) || !strings.Contains(body, `"_Source":"admin"`) {
		t.Fatalf("HTTPS send: %v %v %s", resp, err, body)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("connection state %+v", resp.TLS)
	}

	// Plain HTTP to the same port: refused (Go's TLS server answers 400).
	plain := "http://" + strings.TrimPrefix(p.url, "https://") + "/api/v1/orgs/" + rootOrg + "/events/Server.Events.Receive"
	if resp, body, err := send(&http.Client{Timeout: 10 * time.Second}, plain, `{"over":"http"}`); err == nil && resp.StatusCode == 200 {
		t.Errorf("plain HTTP was served: %d %s", resp.StatusCode, body)
	}
	// TLS 1.1 is refused.
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if _, _, err := send(old, events, `{"over":"tls1.1"}`); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	// A client that does not trust the certificate fails.
	if _, _, err := send(&http.Client{Timeout: 10 * time.Second}, events, `{"over":"untrusted"}`); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusting client: %v", err)
	}

	r := runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl", "SELECT over FROM source(artifact='Server.Events.Receive')")
	if r.code != 0 || r.stdout != "{\"over\":\"https\"}\n" {
		t.Errorf("stored: %+v", r)
	}
	if strings.Contains(p.stderr.String(), "clear text") {
		t.Errorf("warned about clear text under TLS: %s", p.stderr)
	}
}

// runServeBriefly runs `vqlq serve` that is expected to fail at once: a
// server that starts anyway is killed after a while, and the test fails.
func runServeBriefly(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vqlqBin, append([]string{"serve"}, args...)...)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("serve %v did not exit: %s %s", args, out.String(), errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// Bad TLS flags stop serve before it listens or opens the data folder,
// with a message naming the file.
func TestServeTLSFlagErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	otherCert, _, _ := selfSigned(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-key.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate\n"), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", certFile, "--tls-key", missing}, "vqlq serve: --tls-key: open " + missing + ": no such file or directory\n"},
		{[]string{"--tls-cert", filepath.Join(dir, "nocert.pem"), "--tls-key", keyFile}, "vqlq serve: --tls-cert: open " + filepath.Join(dir, "nocert.pem") + ": no such file or directory\n"},
		{[]string{"--tls-cert", certFile}, "vqlq serve: --tls-cert and --tls-key go together: give both, or neither for plain HTTP\n"},
		{[]string{"--tls-key", keyFile}, "vqlq serve: --tls-cert and --tls-key go together: give both, or neither for plain HTTP\n"},
		{[]string{"--tls-cert", garbage, "--tls-key", keyFile}, "vqlq serve: --tls-cert " + garbage + ": no PEM CERTIFICATE block in it\n"},
		{[]string{"--tls-cert", otherCert, "--tls-key", keyFile}, "vqlq serve: --tls-key " + keyFile + " (for --tls-cert " + otherCert + "): tls: private key does not match public key\n"},
		{[]string{"--tls-cert", certFile, "--tls-key", garbage}, "vqlq serve: --tls-key " + garbage + " (for --tls-cert " + certFile + "): tls: failed to find any PEM data in key input\n"},
	}
	for i, tt := range tests {
		data := filepath.Join(dir, "data", string(rune('a'+i)))
		r := runServeBriefly(t, append([]string{"--listen", "127.0.0.1:0", "--data-dir", data}, tt.args...)...)
		if r.code != exitUsage || r.stdout != "" || r.stderr != tt.want {
			t.Errorf("%v: code %d stdout %q stderr %q\nwant stderr %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v: the data folder was opened (%v)", tt.args, err)
		}
	}
}

// Listening on every interface without TLS warns that tokens travel in
// clear text (port 0, and no traffic is sent); on loopback it does not.
func TestServeWarnsWithoutTLSOffLoopback(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef}, "--listen", "0.0.0.0:0")
	port := p.url[strings.LastIndex(p.url, ":")+1:]
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	want := "vqlq serve: warning: listening on 0.0.0.0:" + port + " without TLS: API tokens and events travel in clear text; use --tls-cert and --tls-key, or listen on 127.0.0.1\n"
	if !regexp.MustCompile(`^\d+$`).MatchString(port) || strings.Count(p.stderr.String(), want) != 1 {
		t.Errorf("stderr %q\nwant the line %q", p.stderr, want)
	}

	p = startServe(t, map[string]string{"r.yaml": receiveDef}, "--listen", "localhost:0")
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	if strings.Contains(p.stderr.String(), "warning") {
		t.Errorf("warned on loopback: %s", p.stderr)
	}
}

// The prompt's history lives in the data folder, and is private too, even
// when the prompt never opens the store (nothing here uses a queue).
func TestREPLHistoryIsPrivate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "new", "data")
	s := startTmux(t, "--data-dir", data)
	s.waitFor("vqlq>")
	s.keys("SELECT 'kept' AS h FROM scope()", "Enter")
	s.waitFor("| kept |")
	s.keys("C-d")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.tmux("has-session", "-t", s.name).Run() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(data, "history"))
	if err != nil || !strings.Contains(string(b), "SELECT 'kept' AS h FROM scope()\n") {
		t.Fatalf("history %q %v", b, err)
	}
	if !assertPrivate(t, data)["history"] {
		t.Error("the walk did not see the history")
	}
	if fi, err := os.Stat(filepath.Dir(data)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the data folder's new parent: %v %v", fi.Mode(), err)
	}
}
