package functions

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"iter"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// mailArgs are Velociraptor's; the SMTP settings not given as arguments
// come from a server_metadata() entry (secret=, by default "mail"), since
// vqlq has no config file: an admin stores them once per org with
// server_set_metadata(mail=dict(server=…, server_port=…, …)).
var mailArgs = []vql.ArgSpec{
	arg("to", vql.TypeList, true, "Recipients."),
	arg("cc", vql.TypeList, false, "Copied recipients."),
	arg("from", vql.TypeString, false, "The sender's address (default: the settings' from, else vqlq@<host>)."),
	arg("subject", vql.TypeString, false, "The subject."),
	arg("body", vql.TypeString, true, "The body (plain text)."),
	arg("period", vql.TypeInt, false, "Seconds to wait after the previous mail of this process before sending (default 60): a throttle, not a drop."),
	arg("server", vql.TypeString, false, "The SMTP server (default: the settings')."),
	arg("server_port", vql.TypeInt, false, "Its port (default 587; 465 is TLS from the start, others upgrade with STARTTLS)."),
	arg("auth_username", vql.TypeString, false, "The user to authenticate as (PLAIN, only over TLS)."),
	arg("auth_password", vql.TypeString, false, "Its password."),
	arg("skip_verify", vql.TypeBool, false, "Accept any certificate of the server."),
	arg("root_ca", vql.TypeString, false, "PEM certificates to trust for the server, instead of the system's."),
	arg("secret", vql.TypeString, false, "The server_metadata() entry holding the settings (a dict with server, server_port, auth_username, auth_password, from, skip_verify, root_ca); default \"mail\"."),
	arg("headers", vql.TypeDict, false, "More headers."),
}

// mailFunction sends one mail and returns what was sent; mailPlugin is the
// form the library's server artifacts use (`SELECT * FROM mail(…)`).
func mailFunction(provider queues.Provider) vql.FunctionFunc {
	return needs(vql.FunctionFunc{
		Meta: vql.Info{Name: "mail", Doc: "Send a mail over SMTP (STARTTLS or TLS, PLAIN auth); returns {To, CC, Subject, Body, Period} once the server accepted it.", Args: mailArgs},
		Fn: func(ctx context.Context, scope *vql.Scope, a *vql.Args) any {
			row, err := sendMail(ctx, scope, a, provider)
			if err != nil {
				scope.Errorf("mail: %v", err)
				return nil
			}
			return row
		},
	}, vql.PermNetwork)
}

func mailPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "mail", Doc: "Send a mail over SMTP; one row {To, CC, Subject, Body, Period} once the server accepted it.", Args: mailArgs,
			Permissions: []vql.Permission{vql.PermNetwork}},
		Fn: func(ctx context.Context, scope *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
			return func(yield func(vql.Row) bool) {
				row, err := sendMail(ctx, scope, a, provider)
				if err != nil {
					scope.Errorf("mail: %v", err)
					return
				}
				yield(row)
			}
		},
	}
}

// mailSettings is where and how to send.
type mailSettings struct {
	server, from, user, password, rootCA string
	port                                 int64
	skipVerify                           bool
}

func sendMail(ctx context.Context, scope *vql.Scope, a *vql.Args, provider queues.Provider) (*ordereddict.Dict, error) {
	to, cc := a.Strings("to"), a.Strings("cc")
	subject, body := a.String("subject", ""), a.String("body", "")
	period := a.Int("period", 60)
	if a.Failed() {
		return nil, fmt.Errorf("bad arguments")
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("to: no recipient")
	}
	set, err := settings(scope, a, provider)
	if err != nil {
		return nil, err
	}
	from := set.from
	if from == "" {
		from = "vqlq@" + hostname()
	}
	msg, err := composeMail(from, to, cc, subject, body, a.Dict().Get)
	if err != nil {
		return nil, err
	}
	if err := mailThrottle.wait(ctx, time.Duration(period)*time.Second); err != nil {
		return nil, err
	}
	if err := deliver(ctx, set, from, append(append([]string(nil), to...), cc...), msg); err != nil {
		return nil, err
	}
	return ordereddict.NewDict().Set("To", to).Set("CC", cc).Set("Subject", subject).
		Set("Body", body).Set("Period", period), nil
}

// settings merges the arguments over the org's stored entry.
func settings(scope *vql.Scope, a *vql.Args, provider queues.Provider) (mailSettings, error) {
	var s mailSettings
	name := a.String("secret", "mail")
	if m, err := provider(); err == nil {
		md, err := m.ServerMetadata(plugins.OrgOf(scope))
		if err != nil {
			return s, err
		}
		if v, ok := md.Get(name); ok {
			entry, ok := v.(*ordereddict.Dict)
			if !ok {
				return s, fmt.Errorf("secret: server_metadata() entry %q is not a dict of SMTP settings", name)
			}
			get := func(k string) string { v, _ := entry.Get(k); s, _ := v.(string); return s }
			s.server, s.from, s.user, s.password, s.rootCA = get("server"), get("from"), get("auth_username"), get("auth_password"), get("root_ca")
			if v, ok := entry.Get("server_port"); ok {
				s.port, _ = value.ToInt64(v)
			}
			if v, ok := entry.Get("skip_verify"); ok {
				s.skipVerify = value.Truthy(v)
			}
		} else if a.Has("secret") {
			return s, fmt.Errorf("secret: no server_metadata() entry %q", name)
		}
	}
	over := func(dst *string, k string) {
		if a.Has(k) {
			*dst = a.String(k, "")
		}
	}
	over(&s.server, "server")
	over(&s.from, "from")
	over(&s.user, "auth_username")
	over(&s.password, "auth_password")
	over(&s.rootCA, "root_ca")
	if a.Has("server_port") {
		s.port = a.Int("server_port", 587)
	}
	if a.Has("skip_verify") {
		s.skipVerify = a.Bool("skip_verify", false)
	}
	if s.port == 0 {
		s.port = 587
	}
	if s.server == "" {
		return s, fmt.Errorf("no SMTP server: give server= or store the settings with server_set_metadata(%s=dict(server='smtp.example.com', server_port=587, auth_username=…, auth_password=…))", name)
	}
	return s, nil
}

// composeMail builds the message. The body is quoted-printable, so that no
// line exceeds SMTP's 998 characters whatever the text.
func composeMail(from string, to, cc []string, subject, body string, header func(string) (any, bool)) ([]byte, error) {
	check := func(field string, addrs ...string) error {
		for _, addr := range addrs {
			if _, err := mail.ParseAddress(addr); err != nil {
				return fmt.Errorf("%s: %q: %v", field, addr, err)
			}
		}
		return nil
	}
	if err := check("from", from); err != nil {
		return nil, err
	}
	if err := check("to", to...); err != nil {
		return nil, err
	}
	if err := check("cc", cc...); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	put := func(k, v string) {
		// A header value never carries a line break into the message.
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
		b.WriteString(k + ": " + v + "\r\n")
	}
	put("From", from)
	put("To", strings.Join(to, ", "))
	if len(cc) > 0 {
		put("Cc", strings.Join(cc, ", "))
	}
	put("Subject", mime.QEncoding.Encode("utf-8", subject))
	put("Date", time.Now().Format(time.RFC1123Z))
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	put("Message-Id", "<"+hex.EncodeToString(id)+"@"+hostname()+">")
	put("MIME-Version", "1.0")
	put("Content-Type", "text/plain; charset=utf-8")
	put("Content-Transfer-Encoding", "quoted-printable")
	if v, ok := header("headers"); ok {
		if d, ok := v.(*ordereddict.Dict); ok {
			for _, item := range d.Items() {
				put(item.Key, fmt.Sprint(item.Value))
			}
		}
	}
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	if _, err := w.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// deliver speaks SMTP: TLS from the start on port 465, STARTTLS when the
// server offers it, and a password only over TLS.
func deliver(ctx context.Context, s mailSettings, from string, rcpts []string, msg []byte) error {
	tlsConf := &tls.Config{ServerName: s.server, InsecureSkipVerify: s.skipVerify}
	if s.rootCA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.rootCA)) {
			return fmt.Errorf("root_ca: no PEM certificate in it")
		}
		tlsConf.RootCAs = pool
	}
	addr := net.JoinHostPort(s.server, strconv.FormatInt(s.port, 10))
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	// The query's end (or the timeout) closes the connection under any
	// exchange that hangs.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	secure := false
	if s.port == 465 {
		conn, secure = tls.Client(conn, tlsConf), true
	}
	c, err := smtp.NewClient(conn, s.server)
	if err != nil {
		conn.Close()
		return fmt.Errorf("%s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(hostname()); err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !secure {
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("%s: STARTTLS: %w", addr, err)
		}
		secure = true
	}
	if s.user != "" {
		if !secure {
			return fmt.Errorf("%s offers no STARTTLS: the password is not sent in clear", addr)
		}
		if err := c.Auth(tlsPlainAuth{user: s.user, password: s.password}); err != nil {
			return fmt.Errorf("%s: auth as %s: %w", addr, s.user, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("%s: MAIL FROM: %w", addr, err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("%s: RCPT TO %s: %w", addr, r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("%s: DATA: %w", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("%s: DATA: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: the server did not accept the mail: %w", addr, err)
	}
	return c.Quit()
}

// tlsPlainAuth is AUTH PLAIN once the connection is known to be TLS (the
// caller checks): net/smtp's PlainAuth would also refuse a STARTTLS
// connection to a server it cannot see is encrypted in the same way.
type tlsPlainAuth struct{ user, password string }

func (a tlsPlainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.password), nil
}

func (a tlsPlainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, fmt.Errorf("unexpected server challenge")
	}
	return nil, nil
}

// throttle spaces the process's mails: Velociraptor rate-limits mail
// globally so that an alert storm cannot flood the SMTP server. A mail
// waits its turn (the query can still be stopped, even while waiting for
// another's turn); none is dropped.
type throttle struct {
	turn chan struct{} // holds one token: whose turn it is
	last time.Time
}

var mailThrottle = throttle{turn: make(chan struct{}, 1)}

func (t *throttle) wait(ctx context.Context, period time.Duration) error {
	select {
	case t.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-t.turn }()
	if d := time.Until(t.last.Add(period)); period > 0 && d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
	t.last = time.Now()
	return nil
}

// hostname names this machine in the greeting and the Message-Id.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
