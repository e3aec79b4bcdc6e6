package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

func logscaleUpload(provider queues.Provider) vql.Plugin {
	return forwarderPlugin(provider, vql.Info{
		Name: "logscale_upload",
		Doc: "Send the rows of query to LogScale (Humio) with its structured ingest API; one row per batch delivered. " +
			"Events of a named consumer are acknowledged once LogScale took the batch holding them; rejected events go to the dead-letter queue.",
		Args: withCommon(
			vql.ArgSpec{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to send."},
			vql.ArgSpec{Name: "apibaseurl", Type: vql.TypeString, Required: true, Doc: "The API's base URL (https://cloud.community.humio.com/api); events go to <apibaseurl>/v1/ingest/humio-structured."},
			vql.ArgSpec{Name: "ingest_token", Type: vql.TypeString, Required: true, Doc: "The repository's ingest token."},
			vql.ArgSpec{Name: "tag_fields", Type: vql.TypeList, Doc: "Columns sent as tags (column, or column=tagname to rename); ClientId always is one when the row has it."},
			vql.ArgSpec{Name: "event_batch_size", Type: vql.TypeInt, Doc: "Send at most this many events in one request (default 2000)."},
			vql.ArgSpec{Name: "batching_timeout_ms", Type: vql.TypeInt, Doc: "Send what has gathered after this many milliseconds without a full batch (default 3000)."},
			vql.ArgSpec{Name: "http_timeout", Type: vql.TypeInt, Doc: "Seconds a request may take before it is given up and sent again (default 10)."},
			vql.ArgSpec{Name: "max_retries", Type: vql.TypeInt, Doc: "Give an event up to the dead-letter queue after this many failed sends (default 7200; below 0: send again for as long as the query runs)."},
			vql.ArgSpec{Name: "stats_interval", Type: vql.TypeInt, Doc: "Log the counts of events forwarded, retried and given up this often, in seconds (default 600; 0: never)."},
			vql.ArgSpec{Name: "debug", Type: vql.TypeBool, Doc: "Log every batch delivered."},
		),
	}, newLogscale)
}

// logscaleEndpoint is where structured events go, under the API's base.
const logscaleEndpoint = "/v1/ingest/humio-structured"

// logscale sends events to LogScale's structured ingest endpoint: a JSON
// array of {tags, events: [{timestamp, attributes}]}, one element per
// row, so that each row carries its own tags.
type logscale struct {
	client  *http.Client
	url     string
	token   string
	tags    map[string]string // column → tag
	timeout time.Duration
}

func newLogscale(scope *vql.Scope, args *vql.Args) (sink, string, bool) {
	base := strings.TrimRight(args.String("apibaseurl", ""), "/")
	l := &logscale{token: args.String("ingest_token", ""), timeout: time.Duration(args.Int("http_timeout", 10)) * time.Second}
	tagFields := args.Strings("tag_fields")
	skip, rootCA := args.Bool("skip_verify", false), args.String("root_ca", "")
	if args.Failed() {
		return nil, "", false
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		scope.Errorf("logscale_upload: apibaseurl %q: want http:// or https:// and a host", base)
		return nil, "", false
	}
	l.url = base + logscaleEndpoint
	if l.token == "" {
		scope.Errorf("logscale_upload: ingest_token must not be empty")
		return nil, "", false
	}
	if l.timeout <= 0 {
		scope.Errorf("logscale_upload: http_timeout must be at least 1 second")
		return nil, "", false
	}
	if l.tags, err = tagMap(tagFields); err != nil {
		scope.Errorf("logscale_upload: tag_fields: %v", err)
		return nil, "", false
	}
	if l.client, err = httpClient(skip, rootCA); err != nil {
		scope.Errorf("logscale_upload: %v", err)
		return nil, "", false
	}
	return l, u.Redacted(), true
}

// tagMap reads tag_fields: column or column=tag; an empty entry (what
// split() makes of an empty parameter) is none.
func tagMap(fields []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		column, tag, renamed := strings.Cut(f, "=")
		column, tag = strings.TrimSpace(column), strings.TrimSpace(tag)
		switch {
		case column == "":
			return nil, fmt.Errorf("%q names no column", f)
		case renamed && tag == "":
			return nil, fmt.Errorf("%q names no tag", f)
		case !renamed:
			tag = column
		}
		out[column] = tag
	}
	return out, nil
}

// tune reads Velociraptor's names for the batch settings.
func (l *logscale) tune(args *vql.Args, o *options) error {
	o.chunk = int(args.Int("event_batch_size", int64(o.chunk)))
	if !args.Has("event_batch_size") && !args.Has("chunk_size") {
		o.chunk = 2000
	}
	if args.Has("batching_timeout_ms") {
		o.wait = time.Duration(args.Int("batching_timeout_ms", 3000)) * time.Millisecond
	} else if !args.Has("wait_time") {
		o.wait = 3 * time.Second
	}
	// Velociraptor's max_retries: below 0 for ever, 0 no repeat.
	o.maxRetries = int(args.Int("max_retries", 7200))
	if o.maxRetries < 0 {
		o.maxRetries = -1
	}
	o.statsInterval = time.Duration(args.Int("stats_interval", 600)) * time.Second
	o.debug = args.Bool("debug", false)
	return nil
}

func (l *logscale) prepare(d *document) error {
	tags := ordereddict.NewDict()
	if v, ok := d.row.Get("ClientId"); ok && v != nil {
		tags.Set("ClientId", fmt.Sprint(v))
	}
	for _, item := range d.row.Items() {
		if tag, ok := l.tags[item.Key]; ok && item.Value != nil {
			tags.Set(tag, item.Value)
		}
	}
	attributes := d.row
	if d.id != "" {
		// LogScale keeps no ids: an attribute lets a search tell the
		// copies of a batch sent twice (a lost answer) apart.
		attributes = ordereddict.NewDict()
		for _, item := range d.row.Items() {
			attributes.Set(item.Key, item.Value)
		}
		attributes.Set("vqlq_id", d.id)
	}
	event := ordereddict.NewDict().Set("timestamp", eventTime(d.row).UTC().Format(time.RFC3339Nano)).Set("attributes", attributes)
	payload := ordereddict.NewDict()
	if tags.Len() > 0 {
		payload.Set("tags", tags)
	}
	payload.Set("events", []any{event})
	b, err := value.EncodeJSON(payload)
	if err != nil {
		return fmt.Errorf("the row cannot be encoded: %w", err)
	}
	d.body = b
	return nil
}

// eventTime is when an event happened: its Time, timestamp or _ts
// column, as Velociraptor's forwarder looks for them, else now.
func eventTime(row *ordereddict.Dict) time.Time {
	for _, k := range []string{"Time", "timestamp", "_ts"} {
		if v, ok := row.Get(k); ok && v != nil {
			if t, err := value.ToTime(v); err == nil {
				return t
			}
		}
	}
	return time.Now()
}

func (l *logscale) send(ctx context.Context, docs []*document) ([]result, error) {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, d := range docs {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(d.body)
	}
	body.WriteByte(']')
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, &body)
	if err != nil {
		return nil, &permanentError{reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within http_timeout (%v)", l.timeout)
		}
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading LogScale's answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(resp.StatusCode, raw)
	}
	out := make([]result, len(docs))
	for i := range out {
		out[i] = result{verdict: accepted, status: resp.StatusCode}
	}
	return out, nil
}
