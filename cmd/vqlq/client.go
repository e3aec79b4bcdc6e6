package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vqlq/vqlq/client"
	"github.com/vqlq/vqlq/internal/bytesize"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
)

// defaultClientDir is $VQLQ_CLIENT_DIR, else vqlq-client beside vqlq's
// own data folder: a client and a server on one machine do not share a
// folder by default.
func defaultClientDir() string {
	if d := os.Getenv("VQLQ_CLIENT_DIR"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(runner.DefaultDataDir()), "vqlq-client")
}

// cmdClient runs `vqlq client`: enrolls with the server on first start,
// then runs the CLIENT_EVENT artifacts the server's client event table
// gives it and delivers their rows, buffered on disk while the server is
// away.
func cmdClient(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", defaultClientDir(), "the client's folder: its identity, last table and buffer; $VQLQ_CLIENT_DIR overrides the default")
	serverURL := fs.String("server", "", "the server's URL (https://host:8889); remembered once enrolled")
	enroll := fs.String("enroll-token", "", "a token of role enroll (vqlq token create --role enroll), needed on first start only")
	org := fs.String("org", queues.DefaultOrg, "the org to enroll in")
	caCert := fs.String("ca-cert", "", "PEM certificate the server's TLS certificate is checked against (a self-signed one, or its CA)")
	maxBuffer := fs.String("max-buffer", bytesize.Format(client.DefaultMaxBuffer), "rows kept on disk for the server at most (256MiB, 1GB): past it the sources pause until the server takes rows")
	ping := fs.Duration("ping", time.Minute, "how often the client pings the server")
	if code, ok := parseCommandFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vqlq client: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	maxBytes, err := bytesize.Parse(*maxBuffer)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq client: --max-buffer: %v\n", err)
		return exitUsage
	}
	flags := runner.StoreFlags{DataDir: *dir, Org: queues.DefaultOrg, Sync: "flush", Retention: 30 * 24 * time.Hour, MinFree: queues.DefaultMinFree}
	b := &runner.Backend{Flags: &flags, Server: true}
	defer b.Close()
	m, err := b.Manager()
	if err != nil {
		fmt.Fprintf(stderr, "vqlq client: %v\n", err)
		return exitRuntime
	}
	buf, ok := b.Store().(client.BufferStore)
	if !ok {
		fmt.Fprintf(stderr, "vqlq client: the data folder's store cannot hold the buffer\n")
		return exitRuntime
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	c, err := client.New(ctx, client.Options{Server: *serverURL, EnrollToken: *enroll, Org: *org, Dir: *dir, CACert: *caCert,
		Manager: m, Engine: b.Engine(), Buffer: buf, MaxBuffer: int64(maxBytes), Log: stderr, PingEvery: *ping})
	if err != nil {
		fmt.Fprintf(stderr, "vqlq client: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "vqlq client: %s (folder %s)\n", c.ID(), *dir)
	err = c.Run(ctx)
	switch {
	case errors.Is(err, client.ErrRevoked):
		fmt.Fprintf(stderr, "vqlq client: %v: it must enroll again (move %s away, then start with --enroll-token)\n", err, *dir)
		return exitRuntime
	case errors.Is(err, client.ErrKilled):
		fmt.Fprintf(stderr, "vqlq client: %v\n", err)
		return exitRuntime
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "vqlq client: stopped")
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "vqlq client: %v\n", err)
		return exitRuntime
	}
	return exitOK
}
