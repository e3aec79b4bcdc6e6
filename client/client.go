package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Options configure a Client.
type Options struct {
	// Server is the server's URL (https://host:port); once enrolled the
	// identity file remembers it.
	Server string
	// EnrollToken enrolls a client that has no identity yet.
	EnrollToken string
	// Org is the org to enroll in (default root).
	Org string
	// Dir is the client's folder: its identity and last table live here
	// (the buffer is Buffer, a store in the same folder).
	Dir string
	// CACert is a PEM file of the CA (or self-signed certificate) that
	// signed the server's certificate; empty trusts the system's roots.
	CACert string
	// Manager holds the artifacts the table brings; Engine runs them.
	Manager *queues.Manager
	Engine  *vql.Engine
	Buffer  BufferStore
	// MaxBuffer bounds the rows kept for the server (DefaultMaxBuffer).
	MaxBuffer int64
	// Log receives the client's own messages (default stderr).
	Log io.Writer
	// PingEvery is how often the client pings (default a minute); info is
	// sent at start and every InfoEvery (default a day).
	PingEvery, InfoEvery time.Duration
	// Deny are permissions the artifacts' queries never hold.
	Deny []vql.Permission
}

// ErrRevoked is returned by Run when the server no longer knows the
// client's credential (client_delete()): it must enroll again.
var ErrRevoked = errors.New("the server revoked this client")

// ErrKilled is returned by Run when the server asked the process to exit
// (killkillkill()).
var ErrKilled = errors.New("the server asked this client to exit")

// Client is a running `vqlq client`.
type Client struct {
	opts Options
	id   *Identity
	http *http.Client
	buf  *buffer
	run  *runner

	// dropped counts buffered rows the server refused for good (see
	// dropRefused).
	dropped atomic.Int64

	logMu sync.Mutex
}

// Agent names what the client says it is.
const (
	AgentName    = "vqlq"
	AgentVersion = "0.1"
)

// New prepares a client: its identity (made on first start) and its
// buffer. It does not talk to the server yet.
func New(ctx context.Context, opts Options) (*Client, error) {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.Org == "" {
		opts.Org = queues.DefaultOrg
	}
	if opts.PingEvery <= 0 {
		opts.PingEvery = time.Minute
	}
	if opts.InfoEvery <= 0 {
		opts.InfoEvery = 24 * time.Hour
	}
	id, err := loadIdentity(opts.Dir, strings.TrimRight(opts.Server, "/"), opts.Org)
	if err != nil {
		return nil, err
	}
	if id.Server == "" {
		return nil, fmt.Errorf("no server: give --server URL")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.CACert != "" {
		pem, err := os.ReadFile(opts.CACert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", opts.CACert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	buf, err := openBuffer(ctx, opts.Buffer, opts.MaxBuffer)
	if err != nil {
		return nil, fmt.Errorf("the client's buffer: %w", err)
	}
	c := &Client{opts: opts, id: id, http: &http.Client{Transport: tr}, buf: buf}
	c.run = newRunner(c)
	return c, nil
}

// ID is the client's id.
func (c *Client) ID() string { return c.id.ClientID }

// Run enrolls if needed, then runs until ctx ends, the client is revoked
// or killed. While the server is away it keeps running its last table
// and buffering; it reconnects with backoff.
func (c *Client) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for !c.id.Enrolled {
		err := c.enroll(ctx)
		if err == nil {
			break
		}
		var he *httpError
		if errors.As(err, &he) && he.status >= 400 && he.status < 500 {
			return err // a wrong token or id: retrying will not help
		}
		var unknownCA x509.UnknownAuthorityError
		if errors.As(err, &unknownCA) {
			c.logf("%v; retrying (the server's certificate is not one this machine trusts: give --ca-cert with it, or with its CA)", err)
		} else {
			c.logf("%v; retrying", err)
		}
		if !sleep(ctx, 5*time.Second) {
			return ctx.Err()
		}
	}
	c.logf("client %s of org %s, server %s", c.id.ClientID, c.id.Org, c.id.Server)
	if t, ok := c.loadTable(); ok {
		c.run.apply(ctx, t)
	}
	var wg sync.WaitGroup
	loops := []func(context.Context, context.CancelCauseFunc){c.sendLoop, c.streamLoop, c.pingLoop, c.statusLoop}
	for _, loop := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); loop(ctx, cancel) }()
	}
	<-ctx.Done()
	c.run.stopAll()
	wg.Wait()
	// Say what is left for the next start: a user stopping a client (and
	// a test) can tell that nothing it buffered was lost.
	st := c.buf.stats()
	c.logf("stopped; %d rows (%d bytes) wait for the server, kept in %s; %d rows refused by the server and dropped", st.PendingRows, st.PendingBytes, c.opts.Dir, c.dropped.Load())
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return ctx.Err()
}

func (c *Client) logf(format string, args ...any) {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	fmt.Fprintf(c.opts.Log, "vqlq client: "+format+"\n", args...)
}

func (c *Client) info() clientapi.Info {
	host, _ := os.Hostname()
	return clientapi.Info{Hostname: host, FQDN: host, System: runtime.GOOS, Release: osRelease(), Machine: runtime.GOARCH,
		AgentName: AgentName, AgentVersion: AgentVersion}
}

func osRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// httpError is a refusal from the server.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return fmt.Sprintf("server: %d %s", e.status, e.msg) }

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e clientapi.Error
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &httpError{status: resp.StatusCode, msg: msg}
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// request builds an authenticated request to one of the client's
// endpoints.
func (c *Client) request(ctx context.Context, method, endpoint string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.id.Server+clientapi.Path(c.id.Org, c.id.ClientID, endpoint), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.id.Secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// revoked reports whether err says the server no longer knows the
// client's credential.
func revoked(err error) bool {
	var he *httpError
	return errors.As(err, &he) && he.status == http.StatusUnauthorized
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff doubles a retry delay up to a ceiling.
type backoff struct{ d, min, max time.Duration }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = b.min
	} else {
		b.d = min(2*b.d, b.max)
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }
