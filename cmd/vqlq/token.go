package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/server"
	"github.com/vqlq/vqlq/vql"
)

const tokenUsage = `usage: vqlq token create --name NAME --role reader|publisher|admin|metrics [--permission P,…] [--queue Q …] [--expires DURATION] [--org ID]
       vqlq token list [--org ID] [--format table|json|jsonl|csv]
       vqlq token revoke NAME [--org ID]

A token's name is unique in its org: letters, digits, '_', '-' and '.', at
most 64 characters, and none of the names the server uses itself:
%s.
A role is a preset of permissions, in Velociraptor's names: reader
%s; publisher %s; admin every
permission; metrics none (it reads /metrics alone). --permission adds
more to a reader or publisher, from:
%s
--expires is a Go duration (720h); without it the token never expires. A
revoked or expired token is refused at once and its open watches and
queries end. To rotate a token: create a new one (another name), switch
the client to it, then revoke the old one. The commands go through the
server when one owns the data folder, else to the store.
`

func tokenUsageText() string {
	names := func(perms []vql.Permission) string {
		out := make([]string, len(perms))
		for i, p := range perms {
			out[i] = string(p)
		}
		return strings.Join(out, ", ")
	}
	return fmt.Sprintf(tokenUsage, strings.Join(server.ReservedNames, ", "),
		names(server.Presets[server.RoleReader]), names(server.Presets[server.RolePublisher]), wrapped(names(vql.AllPermissions), 72))
}

// wrapped breaks a comma-separated list into indented lines of at most
// width characters.
func wrapped(list string, width int) string {
	var b strings.Builder
	line := " "
	for _, w := range strings.Fields(list) {
		if len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = " "
		}
		line += " " + w
	}
	b.WriteString(line)
	return b.String()
}

// cmdToken manages API tokens: create, list, revoke.
func cmdToken(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return cmdTokenCreate(args[1:], stdout, stderr)
		case "list":
			return cmdTokenList(args[1:], stdout, stderr)
		case "revoke":
			return cmdTokenRevoke(args[1:], stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprint(stdout, tokenUsageText())
			return exitOK
		}
	}
	fmt.Fprint(stderr, tokenUsageText())
	return exitUsage
}

// tokenStore opens the data folder for a token command run without a
// server.
func tokenStore(flags *runner.StoreFlags) (*runner.Backend, artifacts.Storage, error) {
	b := &runner.Backend{Flags: flags, ReadFirst: true}
	if _, err := b.Manager(); err != nil {
		return b, nil, err
	}
	kv, ok := b.Store().(artifacts.Storage)
	if !ok {
		return b, nil, fmt.Errorf("the data folder's store cannot keep tokens")
	}
	return b, kv, nil
}

func tokenFlags(name string, stderr io.Writer) (*flag.FlagSet, *runner.StoreFlags) {
	fs := flag.NewFlagSet("token "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := &runner.StoreFlags{}
	flags.Register(fs)
	return fs, flags
}

func cmdTokenCreate(args []string, stdout, stderr io.Writer) int {
	fs, flags := tokenFlags("create", stderr)
	name := fs.String("name", "", "the token's name, unique in its org (it appears as _Source and in audit logs)")
	role := fs.String("role", "", "reader, publisher, admin, metrics or enroll")
	expires := fs.Duration("expires", 0, "how long the token works (a Go duration such as 720h; default: no expiry)")
	var queues, permissions multiFlag
	fs.Var(&queues, "queue", "a queue a publisher may send to (repeatable)")
	fs.Var(&permissions, "permission", "permissions to add to the role's preset, comma-separated (repeatable): NETWORK,EXECVE,…")
	if code, ok := parseCommandFlags(fs, args, stdout); !ok {
		return code
	}
	perms, err := vql.ParsePermissions(permissions)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq token: --permission: %v\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vqlq token create: unexpected argument %q (the name is --name NAME)\n", fs.Arg(0))
		return exitUsage
	}
	if _, err := flags.Check(); err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitUsage
	}
	if *expires < 0 {
		fmt.Fprintf(stderr, "vqlq token: --expires must be positive, not %v\n", *expires)
		return exitUsage
	}
	t := server.Token{Name: *name, Role: *role, Org: flags.Org, Queues: queues, Permissions: perms}
	if *expires > 0 {
		t.Expires = time.Now().Add(*expires).UTC()
	}
	if r, ok := runner.Attach(flags.DataDir, flags.Org); ok {
		secret, err := r.CreateToken(context.Background(), runner.TokenSpec{Name: t.Name, Role: t.Role, Queues: t.Queues,
			Permissions: []string(permissions), Expires: t.Expires})
		if err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(stdout, secret)
		return exitOK
	}
	b, kv, err := tokenStore(flags)
	defer b.Close()
	if err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitRuntime
	}
	m, _ := b.Manager()
	secret, err := server.IssueToken(context.Background(), m, kv, t, "local")
	if err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		if errors.Is(err, os.ErrPermission) {
			return exitRuntime
		}
		return exitUsage
	}
	fmt.Fprintln(stdout, secret)
	return exitOK
}

func cmdTokenList(args []string, stdout, stderr io.Writer) int {
	fs, flags := tokenFlags("list", stderr)
	o := &options{}
	fs.StringVar(&o.format, "format", "", "output format: json, jsonl, csv or table (default: table on a terminal, json otherwise)")
	if code, ok := parseCommandFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vqlq token list: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if _, err := flags.Check(); err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitUsage
	}
	w, ok := newWriter(o, stdout, stderr)
	if !ok {
		return exitUsage
	}
	var infos []server.TokenInfo
	if r, ok := runner.Attach(flags.DataDir, flags.Org); ok {
		if err := r.Call(context.Background(), http.MethodGet, "/tokens", nil, &infos); err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
	} else {
		b, kv, err := tokenStore(flags)
		defer b.Close()
		if err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
		list, err := server.ListTokens(kv, flags.Org)
		if err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
		now := time.Now()
		for i := range list {
			infos = append(infos, list[i].Info(now))
		}
	}
	forPeople := o.format == "table" || o.format == "csv" || (o.format == "" && isTerminal(stdout))
	w.Begin()
	for _, i := range infos {
		if err := w.Row(tokenRow(i, forPeople)); err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
	}
	if err := w.End(); err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitRuntime
	}
	return exitOK
}

// tokenRow is one line of `vqlq token list`: for people, times are short
// and absent ones say "never"; for programs they are RFC 3339 or null.
func tokenRow(i server.TokenInfo, forPeople bool) *ordereddict.Dict {
	at := func(t *time.Time) any {
		switch {
		case t != nil:
			return t.UTC().Format(time.RFC3339)
		case forPeople:
			return "never"
		}
		return nil
	}
	var queues any = toAny(i.Queues)
	var perms any = toAny(i.Permissions)
	if forPeople {
		queues = strings.Join(i.Queues, ", ")
		perms = strings.Join(i.Permissions, ", ")
		if i.Role == server.RoleAdmin {
			perms = "every permission"
		}
	}
	status := "active"
	if i.Expired {
		status = "expired"
	}
	created := i.Created
	return ordereddict.NewDict().Set("name", i.Name).Set("role", i.Role).Set("org", i.Org).
		Set("queues", queues).Set("permissions", perms).Set("created", at(&created)).Set("last_used", at(i.LastUsed)).
		Set("expires", at(i.Expires)).Set("status", status)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func cmdTokenRevoke(args []string, stdout, stderr io.Writer) int {
	fs, flags := tokenFlags("revoke", stderr)
	if code, ok := parseCommandFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "vqlq token revoke: expected the token's NAME\n")
		return exitUsage
	}
	name := fs.Arg(0)
	if _, err := flags.Check(); err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitUsage
	}
	if r, ok := runner.Attach(flags.DataDir, flags.Org); ok {
		if err := r.Call(context.Background(), http.MethodDelete, "/tokens/"+url.PathEscape(name), nil, nil); err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
	} else {
		b, kv, err := tokenStore(flags)
		defer b.Close()
		if err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
		m, _ := b.Manager()
		if _, err := server.RevokeToken(context.Background(), m, kv, flags.Org, name, "local"); err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitRuntime
		}
	}
	fmt.Fprintf(stdout, "revoked token %s of org %s\n", name, flags.Org)
	return exitOK
}
