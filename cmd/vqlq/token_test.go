package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/vql"
)

// openLines starts a long-running request with a token; its lines arrive
// on the channel, which is closed when the body ends.
func openLines(t *testing.T, method, url, token, body string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

// ended reports whether a stream ends before the deadline.
func ended(lines <-chan string, within time.Duration) bool {
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func get(url, token string) (int, string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

type listedToken struct {
	Name, Role, Org, Status string
	Queues                  []string
	Created                 string
	LastUsed                *string `json:"last_used"`
	Expires                 *string
}

func listTokens(t *testing.T, args ...string) []listedToken {
	t.Helper()
	r := runVQLQ(t, "", append([]string{"token", "list", "--format", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("token list: %+v", r)
	}
	var out []listedToken
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("token list: %v: %s", err, r.stdout)
	}
	return out
}

// The token lifecycle through the server's socket: `vqlq token` in other
// processes creates, lists and revokes while `vqlq serve` runs; a revoked
// or expired token's open watch and query end.
func TestServeTokenLifecycle(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	api := p.url + "/api/v1/orgs/" + rootOrg
	dash := p.token(t, "--name", "dash", "--role", "reader")
	pub := p.token(t, "--name", "fwd", "--role", "publisher", "--queue", "Server.Events.Receive")
	refusals := []struct {
		args []string
		msg  string
	}{
		{[]string{"--name", "dash", "--role", "admin"}, "vqlq token: org root already has a token named dash: choose another name, or revoke it first (vqlq token revoke dash --org root)\n"},
		{[]string{"--name", "System", "--role", "reader"}, "vqlq token: token name \"System\" is reserved: the server uses server, local, anonymous, system, vqlq itself\n"},
		{[]string{"--name", "fwd2", "--role", "publisher", "--queue", "Server.Events.Nope"}, "vqlq token: --queue Server.Events.Nope: there is no such queue in org root\n"},
		{[]string{"--name", "x", "--role", "reader", "--expires", "-1h"}, "vqlq token: --expires must be positive, not -1h0m0s\n"},
	}
	for _, tt := range refusals {
		r := runVQLQ(t, "", append([]string{"token", "create", "--data-dir", p.data}, tt.args...)...)
		if r.code != exitUsage || r.stdout != "" || r.stderr != tt.msg {
			t.Errorf("%v: %+v, want %q", tt.args, r, tt.msg)
		}
	}
	if status, body, err := get(api+"/queues", dash); err != nil || status != 200 {
		t.Fatalf("dash: %d %s %v", status, body, err)
	}

	list := listTokens(t, "--data-dir", p.data)
	if len(list) != 2 || list[0].Name != "dash" || list[0].Role != "reader" || list[0].Org != "root" || list[0].LastUsed == nil ||
		list[0].Expires != nil || list[0].Status != "active" || list[1].Name != "fwd" || strings.Join(list[1].Queues, ",") != "Server.Events.Receive" || list[1].LastUsed != nil {
		t.Errorf("list: %+v", list)
	}
	r := runVQLQ(t, "", "token", "list", "--data-dir", p.data, "--format", "table")
	for _, want := range []string{"| name ", "| role ", "| org ", "| queues ", "| created ", "| last_used ", "| expires ", "| dash ", "| never ", "Server.Events.Receive", "2 rows"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, out := range []string{r.stdout, runVQLQ(t, "", "token", "list", "--data-dir", p.data, "--format", "json").stdout} {
		for _, secret := range []string{dash, pub, strings.TrimPrefix(dash, "vqlq_"), strings.TrimPrefix(pub, "vqlq_")} {
			if strings.Contains(out, secret) {
				t.Errorf("token list shows a secret:\n%s", out)
			}
		}
	}
	if got := listTokens(t, "--data-dir", p.data, "--org", "acme"); len(got) != 0 {
		t.Errorf("acme: %+v", got)
	}

	// Revoke from another process while dash watches and queries.
	watch := openLines(t, "GET", api+"/events/Server.Events.Receive", dash, "")
	query := openLines(t, "POST", api+"/query", dash, "SELECT * FROM clock(period=1)")
	select {
	case line := <-query:
		if line != `{"type":"begin","statement":0}` {
			t.Fatalf("query: %s", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query did not start")
	}
	r = runVQLQ(t, "", "token", "revoke", "dash", "--data-dir", p.data)
	if r.code != 0 || r.stdout != "revoked token dash of org root\n" {
		t.Fatalf("revoke: %+v", r)
	}
	if !ended(watch, 10*time.Second) {
		t.Error("the revoked token's watch is still open")
	}
	if !ended(query, 10*time.Second) {
		t.Error("the revoked token's query is still running")
	}
	if status, body, _ := get(api+"/queues", dash); status != 401 || body != `{"error":"invalid token","status":401}`+"\n" {
		t.Errorf("dash after revoke: %d %q", status, body)
	}
	if r := runVQLQ(t, "", "token", "revoke", "dash", "--data-dir", p.data); r.code != exitRuntime || !strings.Contains(r.stderr, `org root has no token named "dash"`) {
		t.Errorf("second revoke: %+v", r)
	}
	if got := listTokens(t, "--data-dir", p.data); len(got) != 1 || got[0].Name != "fwd" {
		t.Errorf("list after revoke: %+v", got)
	}
	// The name is free again: rotation may reuse it once the old one is gone.
	p.token(t, "--name", "dash", "--role", "reader")

	// An expiring token.
	brief := p.token(t, "--name", "brief", "--role", "reader", "--expires", "2s")
	if got := listTokens(t, "--data-dir", p.data); len(got) != 3 || got[0].Name != "brief" || got[0].Expires == nil {
		t.Errorf("list: %+v", got)
	}
	watch = openLines(t, "GET", api+"/events/Server.Events.Receive", brief, "")
	if !ended(watch, 15*time.Second) {
		t.Error("the expired token's watch is still open")
	}
	deadline := time.Now().Add(10 * time.Second)
	status, body, _ := get(api+"/queues", brief)
	for status == 200 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		status, body, _ = get(api+"/queues", brief)
	}
	if status != 401 || !strings.HasPrefix(body, `{"error":"token brief expired at `) {
		t.Errorf("brief after expiry: %d %s", status, body)
	}
	if got := listTokens(t, "--data-dir", p.data); got[0].Name != "brief" || got[0].Status != "expired" {
		t.Errorf("list: %+v", got)
	}

	// Both are in the audit log.
	r = runVQLQ(t, "", "query", "--data-dir", p.data, "--format", "jsonl",
		"SELECT operation, principal, details.name AS name FROM source(artifact='Server.Audit.Logs') WHERE operation =~ '^token_'")
	want := `{"operation":"token_create","principal":"local","name":"dash"}
{"operation":"token_create","principal":"local","name":"fwd"}
{"operation":"token_revoke","principal":"local","name":"dash"}
{"operation":"token_create","principal":"local","name":"dash"}
{"operation":"token_create","principal":"local","name":"brief"}
`
	if r.stdout != want {
		t.Errorf("audit log:\n%s\nwant\n%s", r.stdout, want)
	}
}

// Without a server, the token commands work on the store directly.
func TestTokenCommandsWithoutServer(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	defs := t.TempDir()
	os.WriteFile(filepath.Join(defs, "r.yaml"), []byte(receiveDef), 0o644)
	create := func(args ...string) result {
		return runVQLQ(t, "", append([]string{"token", "create", "--data-dir", data, "--definitions", defs}, args...)...)
	}
	r := create("--name", "fwd", "--role", "publisher", "--queue", "Server.Events.Receive", "--expires", "720h")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vqlq_") {
		t.Fatalf("%+v", r)
	}
	secret := strings.TrimSpace(r.stdout)
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--name", "fwd", "--role", "reader"}, "org root already has a token named fwd"},
		{[]string{"--name", "FWD", "--role", "reader"}, "org root already has a token named fwd"},
		{[]string{"--name", "local", "--role", "reader"}, `token name "local" is reserved`},
		{[]string{"--name", "p", "--role", "publisher", "--queue", "Custom.Nope"}, "--queue Custom.Nope: there is no such queue in org root"},
		{[]string{"--name", strings.Repeat("a", 65), "--role", "reader"}, "token name is 65 characters long; at most 64 are allowed"},
	} {
		if r := create(tt.args...); r.code != exitUsage || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("%v: %+v, want %q", tt.args, r, tt.msg)
		}
	}
	if r := create("--name", "fwd", "--role", "reader", "--org", "acme"); r.code != 0 {
		t.Errorf("the same name in another org: %+v", r)
	}
	list := listTokens(t, "--data-dir", data)
	if len(list) != 1 || list[0].Name != "fwd" || list[0].Role != "publisher" || list[0].Expires == nil || list[0].LastUsed != nil || list[0].Created == "" {
		t.Fatalf("list: %+v", list)
	}
	exp, err := time.Parse(time.RFC3339, *list[0].Expires)
	if err != nil || time.Until(exp) < 719*time.Hour || time.Until(exp) > 721*time.Hour {
		t.Errorf("expires %v %v", exp, err)
	}
	r = runVQLQ(t, "", "token", "list", "--data-dir", data, "--format", "jsonl")
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, strings.TrimPrefix(secret, "vqlq_")) {
		t.Errorf("list shows the secret: %s", r.stdout)
	}
	if r := runVQLQ(t, "", "token", "revoke", "--data-dir", data, "fwd"); r.code != 0 || r.stdout != "revoked token fwd of org root\n" {
		t.Errorf("revoke: %+v", r)
	}
	if r := runVQLQ(t, "", "token", "revoke", "--data-dir", data, "fwd"); r.code != exitRuntime || !strings.Contains(r.stderr, `org root has no token named "fwd"`) {
		t.Errorf("second revoke: %+v", r)
	}
	if got := listTokens(t, "--data-dir", data); len(got) != 0 {
		t.Errorf("list after revoke: %+v", got)
	}
	if got := listTokens(t, "--data-dir", data, "--org", "acme"); len(got) != 1 || got[0].Org != "acme" {
		t.Errorf("acme: %+v", got)
	}
	for _, args := range [][]string{{"token"}, {"token", "rotate"}, {"token", "revoke"}, {"token", "revoke", "a", "b"}} {
		if r := runVQLQ(t, "", append(args, "--data-dir", data)...); r.code != exitUsage || !strings.Contains(r.stderr, "vqlq token") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// TestTokenCreatePermission: --permission adds to the role's preset,
// through the server's socket and on the store alike; the listing shows
// the set (the table says an admin holds every permission); a misspelt
// name is refused with the closest one before anything is stored.
func TestTokenCreatePermission(t *testing.T) {
	p := startServe(t, map[string]string{"r.yaml": receiveDef})
	offline := filepath.Join(t.TempDir(), "data")
	for _, data := range []string{p.data, offline} {
		create := func(args ...string) result {
			return runVQLQ(t, "", append([]string{"token", "create", "--data-dir", data}, args...)...)
		}
		for _, args := range [][]string{
			{"--name", "ops", "--role", "reader", "--permission", "network,MACHINE_STATE", "--permission", "EXECVE"},
			{"--name", "boss", "--role", "admin"},
		} {
			if r := create(args...); r.code != 0 || !strings.HasPrefix(r.stdout, "vqlq_") {
				t.Fatalf("%s: %v: %+v", data, args, r)
			}
		}
		for _, tt := range []struct {
			args []string
			msg  string
		}{
			{[]string{"--name", "x", "--role", "reader", "--permission", "NETWRK"}, "vqlq token: --permission: unknown permission \"NETWRK\" (did you mean NETWORK?)\n"},
			{[]string{"--name", "x", "--role", "admin", "--permission", "EXECVE"}, "vqlq token: --permission: an admin token holds every permission already\n"},
		} {
			if r := create(tt.args...); r.code != exitUsage || r.stderr != tt.msg {
				t.Errorf("%s: %v: %+v, want %q", data, tt.args, r, tt.msg)
			}
		}
		r := runVQLQ(t, "", "token", "list", "--data-dir", data, "--format", "jsonl")
		var perms []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var tk struct {
				Name        string
				Permissions []string
			}
			if err := json.Unmarshal([]byte(line), &tk); err != nil {
				t.Fatalf("%s: %v: %s", data, err, line)
			}
			perms = append(perms, tk.Name+"="+strings.Join(tk.Permissions, ","))
		}
		want := "boss=" + strings.Join(permissionNames(vql.AllPermissions), ",") + " ops=READ_RESULTS,ANY_QUERY,NETWORK,MACHINE_STATE,EXECVE"
		if got := strings.Join(perms, " "); got != want {
			t.Errorf("%s: listed %s, want %s", data, got, want)
		}
		table := runVQLQ(t, "", "token", "list", "--data-dir", data, "--format", "table").stdout
		for _, want := range []string{"| permissions ", "| every permission ", "| READ_RESULTS, ANY_QUERY, NETWORK, MACHINE_STATE, EXECVE "} {
			if !strings.Contains(table, want) {
				t.Errorf("%s: table lacks %q:\n%s", data, want, table)
			}
		}
	}
}

func permissionNames(perms []vql.Permission) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return out
}
