package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/clienttable"
	"github.com/vqlq/vqlq/internal/private"
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
	flags.RegisterDeny(fs)
	listen := fs.String("listen", "127.0.0.1:8889", "address of the HTTP API")
	maxRow := fs.Int("max-row-bytes", server.DefaultMaxRowBytes, "largest event (one row) accepted from the API, in bytes")
	maxBody := fs.Int64("max-body", server.DefaultMaxBody, "largest request body accepted from the API, in bytes: reading stops there with a 413")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; needs --tls-key")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	var monitor multiFlag
	fs.Var(&monitor, "monitor", "add a SERVER_EVENT artifact to the monitoring table (repeatable)")
	var clientMonitor multiFlag
	fs.Var(&clientMonitor, "client-monitor", "add a CLIENT_EVENT artifact to the client event table, for every client (repeatable)")
	if code, ok := parseCommandFlags(fs, args, stdout); !ok {
		return code
	}
	skipped, err := flags.Check()
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		return exitUsage
	}
	runner.WarnNotLoaded(stderr, skipped)
	tlsConfig, err := loadTLS(*tlsCert, *tlsKey)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		return exitUsage
	}
	b := &runner.Backend{Flags: &flags, Server: true}
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
		// The server's default is the command's: vql.DefaultMaxQueryMemory.
		MaxQueryMemory: flags.QueryMemory.Budget(),
		Deny:           flags.Deny,
		UploadDir:      filepath.Join(flags.DataDir, runner.UploadsDir),
		Clients:        clienttable.Served{S: clienttable.Of(m), M: m},
	})
	if err := addClientMonitoring(m, flags.Org, clientMonitor); err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		b.Close()
		return exitUsage
	}
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
	// Born 0600 (the umask is set around the listen), so no other local
	// user can ever connect: the socket acts as the folder's owner.
	unix, err := private.ListenUnix(sockPath)
	if err != nil {
		fmt.Fprintf(stderr, "vqlq serve: %v\n", err)
		tcp.Close()
		mon.stop()
		b.Close()
		return exitRuntime
	}
	api := srv.HTTPServer()
	api.TLSConfig = tlsConfig
	local := &http.Server{Handler: srv.LocalHandler()}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		go api.ServeTLS(srv.CountRefusals(tcp), "", "") // the certificate is in TLSConfig
	} else {
		if !isLoopback(tcp.Addr()) {
			fmt.Fprintf(stderr, "vqlq serve: warning: listening on %s without TLS: API tokens and events travel in clear text; use --tls-cert and --tls-key, or listen on 127.0.0.1\n", shownAddr(*listen, tcp.Addr()))
		}
		go api.Serve(srv.CountRefusals(tcp))
	}
	go local.Serve(unix)
	fmt.Fprintf(stdout, "vqlq serve: listening on %s://%s (data folder %s, socket %s)\n", scheme, tcp.Addr(), flags.DataDir, sockPath)

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
	// Every query and watch ends with the server's draining; one that
	// outlives the grace period is a bug worth saying out loud.
	if err := api.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "vqlq serve: API requests still running at shutdown: %v\n", err)
	}
	if err := local.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "vqlq serve: socket requests still running at shutdown: %v\n", err)
	}
	mon.stop()
	os.Remove(sockPath)
	b.Close()
	fmt.Fprintln(stderr, "vqlq serve: stopped")
	return exitOK
}

// loadTLS reads --tls-cert and --tls-key (both or neither) into the API's
// TLS configuration: nil without them. Every problem names the file, and
// is found before anything listens.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("--tls-cert and --tls-key go together: give both, or neither for plain HTTP")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	var certs int
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("--tls-cert %s: %w", certFile, err)
		}
		certs++
	}
	if certs == 0 {
		return nil, fmt.Errorf("--tls-cert %s: no PEM CERTIFICATE block in it", certFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The certificate parsed, so the key is what is wrong (or does
		// not belong to the certificate).
		return nil, fmt.Errorf("--tls-key %s (for --tls-cert %s): %w", keyFile, certFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// isLoopback reports whether the API listens only on this machine
// (127.0.0.0/8 or ::1; localhost resolves to one of them).
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// shownAddr is the address as the user gave it, with the port actually
// bound (0.0.0.0:0 listens on [::]:PORT, which would read oddly).
func shownAddr(given string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(given)
	tcp, ok := bound.(*net.TCPAddr)
	if err != nil || !ok {
		return bound.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
