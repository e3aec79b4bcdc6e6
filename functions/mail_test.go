package functions_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// smtpServer is a real SMTP server (emersion/go-smtp) on loopback with
// STARTTLS on a certificate made for the test and AUTH PLAIN for user
// "alerts" with password "s3cret"; it keeps what it received.
type smtpServer struct {
	addr, port string
	caPEM      string
	mu         sync.Mutex
	got        []receivedMail
}

type receivedMail struct {
	user, from string
	to         []string
	data       string
}

func startSMTP(t *testing.T, withTLS bool) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	srv.Domain = "127.0.0.1"
	srv.AllowInsecureAuth = false
	if withTLS {
		cert, caPEM := testCertificate(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.caPEM = caPEM
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	s.addr, s.port, _ = net.SplitHostPort(l.Addr().String())
	return s
}

type smtpSession struct {
	srv  *smtpServer
	cur  receivedMail
	user string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "s3cret" {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur = receivedMail{user: s.user, from: from}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func (s *smtpServer) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.got...)
}

// testCertificate is a self-signed certificate for 127.0.0.1.
func testCertificate(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// runQueueVQL runs VQL as the data folder's owner on an engine with a
// manager over a real badger store, and returns the last statement's rows
// and the log.
func runQueueVQL(t *testing.T, m *queues.Manager, vars map[string]any, text string) ([]string, []string) {
	t.Helper()
	e := vqlq.NewQueueEngine(func() (*queues.Manager, error) { return m, nil })
	var mu sync.Mutex
	var logs []string
	s := e.NewSession(vql.SessionOptions{Identity: vql.Identity{Org: "root", Principal: "server", All: true, AllOrgs: true},
		OnLog: func(msg vql.Message) { mu.Lock(); logs = append(logs, msg.String()); mu.Unlock() }})
	for k, v := range vars {
		s.Scope().Set(k, v)
	}
	prog, err := parser.Parse(text, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rows []string
	last := -1
	for r := range s.Run(ctx, prog) {
		if r.Statement != last {
			rows, last = nil, r.Statement
		}
		b, _ := output.Marshal(r.Row)
		rows = append(rows, string(b))
	}
	mu.Lock()
	defer mu.Unlock()
	return rows, logs
}

func newManager(t *testing.T) *queues.Manager {
	t.Helper()
	return queuetest.New(t, nil).M
}

// TestMailOverSTARTTLS sends mail to a real SMTP server on loopback: the
// function and the plugin form, settings as arguments and from the org's
// server metadata, and each way it must refuse.
func TestMailOverSTARTTLS(t *testing.T) {
	tlsSrv := startSMTP(t, true)
	plainSrv := startSMTP(t, false)
	m := newManager(t)
	long := strings.Repeat("x", 2000)
	vars := map[string]any{"CA": tlsSrv.caPEM, "Port": tlsSrv.port, "PlainPort": plainSrv.port, "Long": long}
	const args = `server='127.0.0.1', server_port=int(int=Port), auth_username='alerts', auth_password='s3cret', root_ca=CA, period=0`
	cases := []struct {
		name, query string
		srv         *smtpServer
		rows        string
		log         string
		delivered   bool
	}{
		{"function", `SELECT mail(to=['soc@example.com'], cc='lead@example.com', from='vqlq@example.com', subject='Prozess gestartet: ü', body='line one\n' + Long, ` + args + `) AS M FROM scope()`,
			tlsSrv, `{"M":{"To":["soc@example.com"],"CC":["lead@example.com"],"Subject":"Prozess gestartet: ü","Body":"line one\n` + long + `","Period":0}}`, "", true},
		{"plugin with the org's settings", `LET _ <= server_set_metadata(mail=dict(server='127.0.0.1', server_port=int(int=Port), auth_username='alerts', auth_password='s3cret', root_ca=CA, from='vqlq@example.com'))
		  SELECT To, Subject FROM mail(to='soc@example.com', subject='Prozess gestartet: ü', body='line one\n' + Long, period=0)`,
			tlsSrv, `{"To":["soc@example.com"],"Subject":"Prozess gestartet: ü"}`, "", true},
		{"a wrong password", `SELECT mail(to='soc@example.com', body='x', server='127.0.0.1', server_port=int(int=Port), auth_username='alerts', auth_password='wrong', root_ca=CA, period=0) AS M FROM scope()`,
			tlsSrv, `{"M":null}`, "mail: 127.0.0.1:" + tlsSrv.port + ": auth as alerts: 454 \"4.7.0 invalid credentials\"", false},
		{"an unknown secret", `SELECT mail(to='soc@example.com', body='x', server='127.0.0.1', server_port=int(int=Port), period=0, secret='none') AS M FROM scope()`,
			tlsSrv, `{"M":null}`, `mail: secret: no server_metadata() entry "none"`, false},
		{"no root_ca", `SELECT mail(to='soc@example.com', body='x', server='127.0.0.1', server_port=int(int=Port), auth_username='alerts', auth_password='s3cret', root_ca='', period=0) AS M FROM scope()`,
			tlsSrv, `{"M":null}`, "STARTTLS: tls: failed to verify certificate", false},
		{"skip_verify", `SELECT mail(to='soc@example.com', from='vqlq@example.com', subject='Prozess gestartet: ü', body='line one\n' + Long, server='127.0.0.1', server_port=int(int=Port), auth_username='alerts', auth_password='s3cret', root_ca='', skip_verify=TRUE, period=0).Subject AS S FROM scope()`,
			tlsSrv, `{"S":"Prozess gestartet: ü"}`, "", true},
		{"no STARTTLS: no password in clear", `SELECT mail(to='soc@example.com', body='x', server='127.0.0.1', server_port=int(int=PlainPort), auth_username='alerts', auth_password='s3cret', period=0) AS M FROM scope()`,
			plainSrv, `{"M":null}`, "offers no STARTTLS: the password is not sent in clear", false},
		{"a bad address", `SELECT mail(to='not an address', body='x', server='127.0.0.1', server_port=int(int=Port), period=0) AS M FROM scope()`,
			tlsSrv, `{"M":null}`, `mail: to: "not an address": mail: no angle-addr`, false},
	}
	for _, c := range cases {
		before := len(c.srv.received())
		rows, logs := runQueueVQL(t, m, vars, c.query)
		if got := strings.Join(rows, "\n"); got != c.rows {
			t.Errorf("%s: rows %s\nwant %s\nlog %v", c.name, got, c.rows, logs)
		}
		if c.log != "" && !strings.Contains(strings.Join(logs, "\n"), c.log) {
			t.Errorf("%s: log %v lacks %q", c.name, logs, c.log)
		}
		got := c.srv.received()
		if !c.delivered {
			if len(got) != before {
				t.Errorf("%s: a mail was delivered", c.name)
			}
			continue
		}
		if len(got) != before+1 {
			t.Fatalf("%s: %d mails delivered, want 1", c.name, len(got)-before)
		}
		checkMail(t, c.name, got[before], long)
	}
	// With no server anywhere the message says where settings go.
	m2 := newManager(t)
	_, logs := runQueueVQL(t, m2, nil, `SELECT mail(to='soc@example.com', body='x') FROM scope()`)
	if want := "mail: no SMTP server: give server= or store the settings with server_set_metadata(mail=dict("; !strings.Contains(strings.Join(logs, "\n"), want) {
		t.Errorf("no server: log %v lacks %q", logs, want)
	}
}

// checkMail reads a delivered message as a mail client would.
func checkMail(t *testing.T, name string, got receivedMail, long string) {
	t.Helper()
	if got.user != "alerts" || got.from != "vqlq@example.com" || got.to[0] != "soc@example.com" {
		t.Errorf("%s: envelope user %q from %q to %v", name, got.user, got.from, got.to)
	}
	for _, line := range strings.Split(got.data, "\r\n") {
		if len(line) > 998 {
			t.Errorf("%s: a line of %d characters", name, len(line))
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(got.data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Prozess gestartet: ü" {
		t.Errorf("%s: subject %q, %v", name, subject, err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	// The message ends with the line break before DATA's final dot.
	if err != nil || strings.TrimSuffix(string(body), "\r\n") != "line one\r\n"+long {
		t.Errorf("%s: body of %d bytes, %v", name, len(body), err)
	}
}
