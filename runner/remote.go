package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/value"
)

// SocketFile is the server's socket in the data folder: other vqlq
// processes on the folder attach through it.
const SocketFile = "vqlq.sock"

// Remote runs statements on the vqlq server that owns a data folder,
// through the folder's socket, as if they ran here: rows stream back, log
// messages go to OnLog, and LETs persist in a server-side session.
type Remote struct {
	client  *http.Client
	org     string
	session string
	used    bool // the server has made the session: later requests resume it
	OnLog   func(vql.Message)
	// Engine, when set, checks programs here before they are sent (see
	// Check), with the same plugins and functions as the server's.
	Engine *vql.Engine
	// Deny are permissions the server-side session must not use for this
	// client (--deny): sent with every statement, they narrow what the
	// server would grant, never widen it.
	Deny []string
	// lets are the names LET statements sent to the server-side session
	// defined, which later checks count as defined.
	lets map[string]bool
}

// Check implements Target: the program is checked with this process's
// engine, counting the LETs already sent to the server-side session; the
// server checks each statement again when it runs it.
func (r *Remote) Check(prog *ast.Program) error {
	if r.Engine == nil {
		return nil
	}
	return r.Engine.Check(prog, func(name string) bool { return r.lets[name] })
}

// ErrServerGone is wrapped by a Remote's errors when the server is not
// there any more: it shut down (or died) while a statement ran, or
// cannot be reached for the next one.
var ErrServerGone = errors.New("the vqlq server went away")

// errNotSent marks an ErrServerGone that happened before the statement
// reached the server (nothing ran), so that it can run elsewhere.
var errNotSent = errors.New("it cannot be reached")

// ErrSessionLost is returned when the server no longer has the session
// (it restarted): the statement did not run, and the session's LETs are
// gone with the old server.
var ErrSessionLost = errors.New("the vqlq server no longer has this session")

// Attach connects to the server owning dataDir, if one is running.
func Attach(dataDir, org string) (*Remote, bool) {
	sock := filepath.Join(dataDir, SocketFile)
	if _, err := os.Stat(sock); err != nil {
		return nil, false
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	c := &http.Client{Transport: &http.Transport{DialContext: dial, DisableCompression: true}}
	probe := &http.Client{Transport: c.Transport, Timeout: 2 * time.Second}
	resp, err := probe.Get("http://vqlq/api/v1/orgs/" + org + "/queues")
	if err != nil {
		return nil, false
	}
	resp.Body.Close()
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &Remote{client: c, org: org, session: hex.EncodeToString(id)}, true
}

// SetOrg implements Target.
func (r *Remote) SetOrg(org string) { r.org = org }

// Close implements Target: the session is the server's, which ends it
// when it is idle or the server stops.
func (r *Remote) Close() {}

// Do sends a request to the server, as the folder's owner.
func (r *Remote) Do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://vqlq/api/v1/orgs/"+r.org+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return r.client.Do(req)
}

// message is one line of the server's query stream.
type message struct {
	Type      string          `json:"type"`
	Statement int             `json:"statement"`
	Row       json.RawMessage `json:"row"`
	Level     string          `json:"level"`
	Message   string          `json:"message"`
	Time      time.Time       `json:"time"`
	ID        string          `json:"id"`   // confirm: the query
	Rows      int64           `json:"rows"` // confirm: rows to confirm
}

// Statement implements Target: the statement's canonical text runs in the
// server-side session.
func (r *Remote) Statement(ctx context.Context, stmt ast.Statement, w output.Writer) (int, error) {
	if l, ok := stmt.(*ast.Let); ok {
		if r.lets == nil {
			r.lets = map[string]bool{}
		}
		r.lets[l.Name.Value] = true
	}
	// The server is asked for confirmations: a consumer in the statement
	// acknowledges an event only once this process's output has it, not
	// when the server wrote it to the socket (see server/confirm.go).
	resp, err := r.Do(ctx, http.MethodPost, "/query", map[string]any{"query": stmt.String(), "session": r.session, "confirm": true, "resume": r.used, "deny": r.Deny})
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, fmt.Errorf("%w: %w", ErrServerGone, errNotSent)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusGone {
		return 0, ErrSessionLost
	}
	r.used = true
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = string(b)
		}
		return 0, fmt.Errorf("server: %s", e.Error)
	}
	_, isSelect := stmt.(*ast.SelectStmt)
	rows := make(chan *ordereddict.Dict, 64)
	errc := make(chan error, 1)
	ack := newOutputAck()
	go func() {
		defer close(rows)
		ended := false // a SELECT's stream ends with {"type":"end"}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<16), 64<<20)
		for sc.Scan() {
			var m message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				errc <- fmt.Errorf("server sent %q: %v", sc.Text(), err)
				return
			}
			switch m.Type {
			case "row":
				v, err := value.DecodeJSON(m.Row)
				if d, ok := v.(*ordereddict.Dict); ok && err == nil {
					ack.produced.Add(1)
					rows <- d
				}
			case "confirm":
				// Every row before this message is on the channel: wait
				// until the output has written and flushed them, then say
				// so. An output that failed confirms nothing.
				if ack.barrier() != nil {
					return
				}
				if err := r.Call(ctx, http.MethodPost, "/query/confirm", map[string]any{"session": r.session, "id": m.ID, "rows": m.Rows}, nil); err != nil {
					if ctx.Err() == nil {
						errc <- fmt.Errorf("server: confirming rows: %w", err)
					}
					return
				}
			case "log":
				if r.OnLog != nil {
					r.OnLog(vql.Message{Time: m.Time, Level: m.Level, Text: m.Message})
				}
			case "end":
				ended = true
			case "shutdown":
				errc <- fmt.Errorf("%w (%s); the statement ended with it", ErrServerGone, m.Message)
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := sc.Err(); err != nil {
			errc <- fmt.Errorf("%w: %v", ErrServerGone, err)
		} else if isSelect && !ended {
			errc <- fmt.Errorf("%w: the connection closed before the statement ended", ErrServerGone)
		}
	}()
	n, err := pump(rows, isSelect, w, ack)
	if err != nil {
		return n, err
	}
	select {
	case err := <-errc:
		return n, err
	default:
		return n, nil
	}
}

// Call sends a request to the server and decodes its JSON answer into
// out (when not nil); a refusal is returned as an error with the server's
// message.
func (r *Remote) Call(ctx context.Context, method, path string, in, out any) error {
	resp, err := r.Do(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%s (status %d)", bytes.TrimSpace(b), resp.StatusCode)
		}
		return fmt.Errorf("%s", e.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// TokenSpec is the token `vqlq token create` asks a server for.
type TokenSpec struct {
	Name, Role string
	Queues     []string
	// Permissions are added to the role's preset.
	Permissions []string
	// Expires is when the token stops working; zero is never.
	Expires time.Time
}

// CreateToken asks the server to create an API token in the remote's org.
func (r *Remote) CreateToken(ctx context.Context, t TokenSpec) (string, error) {
	req := map[string]any{"name": t.Name, "role": t.Role, "queues": t.Queues, "permissions": t.Permissions}
	if !t.Expires.IsZero() {
		req["expires"] = t.Expires
	}
	var out struct{ Token string }
	if err := r.Call(ctx, http.MethodPost, "/tokens", req, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}
