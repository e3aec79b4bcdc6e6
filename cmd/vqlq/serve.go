package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/runner"
	"github.com/vqlq/vqlq/server"
)

// cmdServe runs the event server: it owns the data folder, serves the API
// on --listen and, for other vqlq processes on the folder, a socket inside
// it.
func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flags runner.StoreFlags
	flags.Register(fs)
	listen := fs.String("listen", "127.0.0.1:8889", "address of the HTTP API")
	maxRow := fs.Int("max-row-bytes", server.DefaultMaxRowBytes, "largest event (one row) accepted from the API, in bytes")
	maxBody := fs.Int64("max-body", server.DefaultMaxBody, "largest request body accepted from the API, in bytes: reading stops there with a 413")
	var monitor multiFlag
	fs.Var(&monitor, "monitor", "add a SERVER_EVENT artifact to the monitoring table (repeatable)")
	if err := fs.Parse(flagsFirst(args)); err != nil {
		return exitUsage
	}
	if err := flags.Check(); err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		return exitUsage
	}
	b := &runner.Backend{Flags: &flags}
	m, err := b.Manager()
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		return exitRuntime
	}
	kv, _ := b.Store().(artifacts.Storage)
	logs := &runner.LogPrinter{W: stderr}
	srv := server.New(server.Options{
		Manager:     m,
		KV:          kv,
		MaxRowBytes: *maxRow,
		MaxBody:     *maxBody,
		Engine:      b.Engine(),
	})
	mon, err := startMonitoring(b, m, kv, monitor)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		b.Close()
		return exitUsage
	}
	_ = logs

	tcp, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		mon.stop()
		b.Close()
		return exitRuntime
	}
	sockPath := filepath.Join(flags.DataDir, runner.SocketFile)
	os.Remove(sockPath) // the store's lock proves no live server owns it
	unix, err := net.Listen("unix", sockPath)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		mon.stop()
		b.Close()
		return exitRuntime
	}
	os.Chmod(sockPath, 0o600)
	api := srv.HTTPServer()
	local := &http.Server{Handler: srv.LocalHandler()}
	go api.Serve(srv.CountRefusals(tcp))
	go local.Serve(unix)
	fmt.Fprintf(stdout, "vqlq serve: listening on http://%s (data folder %s, socket %s)\n", tcp.Addr(), flags.DataDir, sockPath)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	fmt.Fprintln(stderr, "vqlq serve: shutting down")
	// Stop accepting sends, let the ones in flight be stored, end
	// watchers and queries, then flush and close the store.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "vqlq serve: waiting for sends: %v\n", err)
	}
	_ = api.Shutdown(ctx)
	_ = local.Shutdown(ctx)
	mon.stop()
	os.Remove(sockPath)
	b.Close()
	fmt.Fprintln(stderr, "vqlq serve: stopped")
	return exitOK
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cmdToken creates an API token: through the server when one owns the
// data folder, otherwise in the store directly.
func cmdToken(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: vqlq token create --name NAME --role reader|publisher|admin [--queue NAME …] [--org ID]")
		return exitUsage
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flags runner.StoreFlags
	flags.Register(fs)
	name := fs.String("name", "", "the token's name (it appears as _Source and in audit logs)")
	role := fs.String("role", "", "reader, publisher or admin")
	var queues multiFlag
	fs.Var(&queues, "queue", "a queue a publisher may send to (repeatable)")
	if err := fs.Parse(flagsFirst(args[1:])); err != nil {
		return exitUsage
	}
	if err := flags.Check(); err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitUsage
	}
	t := server.Token{Name: *name, Role: *role, Org: flags.Org, Queues: queues}
	if r, ok := runner.Attach(flags.DataDir, flags.Org); ok {
		secret, err := r.CreateToken(context.Background(), t.Name, t.Role, t.Queues)
		if err != nil {
			fmt.Fprintf(stderr, "vqlq token: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(stdout, secret)
		return exitOK
	}
	b := &runner.Backend{Flags: &flags}
	defer b.Close()
	m, err := b.Manager()
	if err != nil {
		fmt.Fprintf(stderr, "vqlq token: %v\n", err)
		return exitRuntime
	}
	kv, _ := b.Store().(artifacts.Storage)
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
