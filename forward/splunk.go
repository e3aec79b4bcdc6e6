package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

func splunkUpload(provider queues.Provider) vql.Plugin {
	return forwarderPlugin(provider, vql.Info{
		Name: "splunk_upload",
		Doc: "Send the rows of query to a Splunk HTTP Event Collector; one row per batch delivered. " +
			"Events of a named consumer are acknowledged once the collector took the batch holding them; rejected events go to the dead-letter queue.",
		Args: withCommon(
			vql.ArgSpec{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to send."},
			vql.ArgSpec{Name: "url", Type: vql.TypeString, Required: true, Doc: "The collector's URL (https://host:8088/services/collector)."},
			vql.ArgSpec{Name: "token", Type: vql.TypeString, Doc: "The collector's token."},
			vql.ArgSpec{Name: "index", Type: vql.TypeString, Doc: "The index; when empty, each row's _splunk_index column (else the token's default)."},
			vql.ArgSpec{Name: "source", Type: vql.TypeString, Doc: "The source field; when empty, each row's _splunk_source column, else velociraptor."},
			vql.ArgSpec{Name: "sourcetype", Type: vql.TypeString, Doc: "The sourcetype field; when empty, each row's _splunk_source_type column, else vql."},
			vql.ArgSpec{Name: "hostname", Type: vql.TypeString, Doc: "The host field (default this machine's name)."},
			vql.ArgSpec{Name: "hostname_field", Type: vql.TypeString, Doc: "A column that holds each event's host; wins over hostname."},
			vql.ArgSpec{Name: "timestamp_field", Type: vql.TypeString, Doc: "A column that holds each event's time (epoch, RFC 3339 or timestamp); default: when the collector receives it."},
		),
	}, newSplunk)
}

// splunk sends events to an HTTP Event Collector, many in one request.
type splunk struct {
	client                          *http.Client
	url, token                      string
	index, source, sourcetype, host string
	hostField, timeField            string
}

func newSplunk(scope *vql.Scope, args *vql.Args) (sink, string, bool) {
	s := &splunk{
		url: args.String("url", ""), token: args.String("token", ""),
		index: args.String("index", ""), source: args.String("source", ""), sourcetype: args.String("sourcetype", ""),
		host: args.String("hostname", ""), hostField: args.String("hostname_field", ""), timeField: args.String("timestamp_field", ""),
	}
	skip, rootCA := args.Bool("skip_verify", false), args.String("root_ca", "")
	if args.Failed() {
		return nil, "", false
	}
	u, err := url.Parse(s.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		scope.Errorf("splunk_upload: url %q: want http:// or https:// and a host", s.url)
		return nil, "", false
	}
	if s.host == "" {
		s.host, _ = os.Hostname()
	}
	if s.client, err = httpClient(skip, rootCA); err != nil {
		scope.Errorf("splunk_upload: %v", err)
		return nil, "", false
	}
	return s, u.Redacted(), true
}

// splunkMeta are the columns that say where an event goes, not what it
// holds.
var splunkMeta = map[string]bool{"_splunk_index": true, "_splunk_source": true, "_splunk_source_type": true}

// field is the argument's value, else the row's column, else def.
func field(arg string, row *ordereddict.Dict, column, def string) string {
	if arg != "" {
		return arg
	}
	if v, ok := row.Get(column); ok && v != nil {
		return fmt.Sprint(v)
	}
	return def
}

func (s *splunk) prepare(d *document) error {
	event := ordereddict.NewDict()
	for _, item := range d.row.Items() {
		if !splunkMeta[item.Key] {
			event.Set(item.Key, item.Value)
		}
	}
	out := ordereddict.NewDict()
	if s.timeField != "" {
		if v, ok := d.row.Get(s.timeField); ok && v != nil {
			t, err := value.ToTime(v)
			if err != nil {
				return fmt.Errorf("timestamp_field %s: %w", s.timeField, err)
			}
			out.Set("time", float64(t.UnixMilli())/1000)
		}
	}
	host := s.host
	if s.hostField != "" {
		if v, ok := d.row.Get(s.hostField); ok && v != nil {
			host = fmt.Sprint(v)
		}
	}
	out.Set("host", host).
		Set("source", field(s.source, d.row, "_splunk_source", "velociraptor")).
		Set("sourcetype", field(s.sourcetype, d.row, "_splunk_source_type", "vql"))
	if index := field(s.index, d.row, "_splunk_index", ""); index != "" {
		out.Set("index", index)
	}
	out.Set("event", event)
	if d.id != "" {
		// The collector keeps no ids: an indexed field lets a search
		// tell the copies of a batch sent twice (a lost answer) apart.
		out.Set("fields", ordereddict.NewDict().Set("vqlq_id", d.id))
	}
	b, err := value.EncodeJSON(out)
	if err != nil {
		return fmt.Errorf("the row cannot be encoded: %w", err)
	}
	d.body = append(b, '\n')
	return nil
}

// hecAnswer is the collector's reply: code 0 is success; a bad event in a
// batch is named by its number, the events before it are indexed and
// those after it are not.
type hecAnswer struct {
	Text        string `json:"text"`
	Code        int    `json:"code"`
	InvalidItem *int   `json:"invalid-event-number"`
}

func (s *splunk) send(ctx context.Context, docs []*document) ([]result, error) {
	var body bytes.Buffer
	for _, d := range docs {
		body.Write(d.body)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, &body)
	if err != nil {
		return nil, &permanentError{reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Splunk "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading the collector's answer: %w", err)
	}
	var a hecAnswer
	_ = json.Unmarshal(raw, &a)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		out := make([]result, len(docs))
		for i := range out {
			out[i] = result{verdict: accepted, status: resp.StatusCode}
		}
		return out, nil
	}
	if resp.StatusCode == http.StatusBadRequest && a.InvalidItem != nil && *a.InvalidItem >= 0 && *a.InvalidItem < len(docs) {
		bad := *a.InvalidItem
		out := make([]result, len(docs))
		for i := range out {
			switch {
			case i < bad:
				out[i] = result{verdict: accepted, status: http.StatusOK}
			case i == bad:
				out[i] = result{verdict: rejected, status: resp.StatusCode, reason: fmt.Sprintf("HTTP 400: %s (code %d)", a.Text, a.Code)}
			default:
				out[i] = result{verdict: unsent}
			}
		}
		return out, nil
	}
	return nil, statusError(resp.StatusCode, raw)
}
