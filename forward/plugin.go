package forward

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"time"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Plugins returns the forwarders, bound to the manager the provider
// returns (their dead letters go to its queues).
func Plugins(provider queues.Provider) []vql.Plugin {
	return []vql.Plugin{elasticUpload(provider), splunkUpload(provider), webhookUpload(provider),
		logscaleUpload(provider), adxUpload(provider)}
}

// Functions returns the uploads to cloud storage: one file a call, no
// queue behind them.
func Functions() []vql.Function {
	return []vql.Function{uploadGCS()}
}

// commonArgs are the arguments every forwarder takes, after its own.
var commonArgs = []vql.ArgSpec{
	{Name: "chunk_size", Type: vql.TypeInt, Doc: "Send at most this many rows in one request (default 500)."},
	{Name: "wait_time", Type: vql.TypeFloat, Doc: "Send what has gathered after this many seconds without a full chunk (default 2)."},
	{Name: "threads", Type: vql.TypeInt, Doc: "Accepted for Velociraptor's queries; batches go one at a time, in order, so that an event is acknowledged exactly when its batch is accepted."},
	{Name: "skip_verify", Type: vql.TypeBool, Doc: "Accept any certificate of an https sink (default false)."},
	{Name: "root_ca", Type: vql.TypeString, Doc: "PEM certificates to trust for an https sink, besides the system's."},
	{Name: "max_retries", Type: vql.TypeInt, Doc: "Give a document up to the dead-letter queue after this many failed sends (default 0: send again for as long as the query runs)."},
	{Name: "retry_wait", Type: vql.TypeFloat, Doc: "Seconds before the first repeat of a failed send; doubles with each failure in a row (default 1)."},
	{Name: "max_wait", Type: vql.TypeFloat, Doc: "The longest wait between repeats, in seconds (default 60)."},
	{Name: "dead_letter", Type: vql.TypeString, Doc: "The SERVER_EVENT queue for rejected documents (default " + DeadLetters + ", defined in the org on first use; another needs PUBLISH)."},
	{Name: "id_column", Type: vql.TypeString, Doc: "The column that holds a document's id (default _id); rows without it are named <queue>:<seq> after their event."},
}

// withCommon is a forwarder's own arguments followed by the common ones
// it does not declare itself (logscale_upload's max_retries is
// Velociraptor's, with another default and meaning).
func withCommon(own ...vql.ArgSpec) []vql.ArgSpec {
	mine := map[string]bool{}
	for _, a := range own {
		mine[a.Name] = true
	}
	for _, a := range commonArgs {
		if !mine[a.Name] {
			own = append(own, a)
		}
	}
	return own
}

// tuner is a sink whose plugin takes some common settings under
// Velociraptor's names for it (event_batch_size for chunk_size, …): tune
// reads them over the common ones before they are checked, max_retries
// included (its meaning is then the plugin's).
type tuner interface {
	tune(args *vql.Args, o *options) error
}

// commonRetries reads max_retries as the common argument means it: 0 is
// for ever.
func commonRetries(o *options) error {
	switch {
	case o.maxRetries < 0:
		return fmt.Errorf("max_retries must be 0 (for ever) or more, not %d", o.maxRetries)
	case o.maxRetries == 0:
		o.maxRetries = -1
	}
	return nil
}

// start reads the common arguments and sets up a forwarder for sink; it
// logs why not and returns nil when it cannot run.
func start(ctx context.Context, scope *vql.Scope, args *vql.Args, provider queues.Provider, name, target string, s sink) *forwarder {
	o := options{
		name:        name,
		chunk:       int(args.Int("chunk_size", 500)),
		wait:        seconds(args.Float("wait_time", 2)),
		retryWait:   seconds(args.Float("retry_wait", 1)),
		maxWait:     seconds(args.Float("max_wait", 60)),
		maxRetries:  int(args.Int("max_retries", 0)),
		deadLetters: args.String("dead_letter", ""),
		idColumn:    args.String("id_column", "_id"),
	}
	var err error
	if t, ok := s.(tuner); ok {
		err = t.tune(args, &o)
	} else {
		err = commonRetries(&o)
	}
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil
	}
	if args.Failed() {
		return nil
	}
	switch {
	case o.chunk <= 0:
		scope.Errorf("%s: chunk_size must be at least 1, not %d", name, o.chunk)
		return nil
	case o.wait <= 0:
		scope.Errorf("%s: wait_time must be more than 0 seconds", name)
		return nil
	case o.retryWait <= 0 || o.maxWait <= 0:
		scope.Errorf("%s: retry_wait and max_wait must be more than 0 seconds", name)
		return nil
	case o.statsInterval < 0:
		scope.Errorf("%s: stats_interval must be 0 (none) or more seconds", name)
		return nil
	}
	if o.deadLetters == "" {
		o.deadLetters = DeadLetters
	} else if o.deadLetters != DeadLetters && !scope.Require(name, vql.PermPublish) {
		// Any other queue is one the caller sends to.
		return nil
	}
	m, err := provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil
	}
	org := plugins.OrgOf(scope)
	from := plugins.SenderOf(scope)
	if err := ensureDeadLetters(ctx, m, org, o.deadLetters, from); err != nil {
		scope.Errorf("%s: dead-letter queue: %v", name, err)
		return nil
	}
	return &forwarder{ctx: ctx, scope: scope, m: m, sink: s, opts: o, org: org, from: from,
		stats: queues.NewForwardStats(name + " " + target)}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// httpClient is the client of one forwarder: its own transport, so that
// skip_verify and root_ca concern only its sink. Time limits come from
// the request context.
func httpClient(skipVerify bool, rootCA string) (*http.Client, error) {
	tlsConfig := &tls.Config{InsecureSkipVerify: skipVerify}
	if rootCA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(rootCA)) {
			return nil, errors.New("root_ca: no PEM certificate in it")
		}
		tlsConfig.RootCAs = pool
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsConfig,
	}}, nil
}

// requestTimeout bounds one request to a sink: a sink that hangs is
// retried like one that refuses.
const requestTimeout = 60 * time.Second

// maxResponse bounds what is read of a sink's answer.
const maxResponse = 16 << 20

// retryableStatus says whether a request refused with this status may
// succeed later as it is: overload and server errors, and the statuses of
// a sink that is misconfigured rather than of a bad document (credentials,
// a missing endpoint), which an operator fixes without losing anything.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusProxyAuthRequired,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}

// statusError is the failure of a request refused with code; body is
// the start of the sink's answer.
func statusError(code int, body []byte) error {
	text := string(body)
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	err := fmt.Errorf("HTTP %d: %s", code, text)
	if retryableStatus(code) {
		return err
	}
	return &permanentError{status: code, reason: err.Error()}
}

// forwarderPlugin builds a forwarder plugin: setup reads the sink's own
// arguments and returns the sink and where it sends.
func forwarderPlugin(provider queues.Provider, info vql.Info, setup func(scope *vql.Scope, args *vql.Args) (sink, string, bool)) vql.Plugin {
	info.Permissions = []vql.Permission{vql.PermNetwork}
	return vql.PluginFunc{
		Meta: info,
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			query, ok := args.Get("query")
			if !ok {
				scope.Errorf("%s: query is required", info.Name)
				return none
			}
			s, target, ok := setup(scope, args)
			if !ok || args.Failed() {
				return none
			}
			f := start(ctx, scope, args, provider, info.Name, target, s)
			if f == nil {
				return none
			}
			return f.run(query)
		},
	}
}

func none(func(vql.Row) bool) {}
