package main

import (
	"context"
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
	"github.com/vqlq/vqlq/vql"
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
	maxRow := fs.Int("max-row-bytes", server.DefaultMaxRowBytes, "largest event accepted from the API")
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
		Engine: func(org string, readOnly bool) *vql.Engine {
			e := b.EngineFor(org)
			if readOnly {
				server.DenyChanges(e)
			}
			return e
		},
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
	api := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	local := &http.Server{Handler: srv.LocalHandler()}
	go api.Serve(tcp)
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
