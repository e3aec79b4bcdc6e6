package forward

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

func elasticUpload(provider queues.Provider) vql.Plugin {
	return forwarderPlugin(provider, vql.Info{
		Name: "elastic_upload",
		Doc: "Send the rows of query to Elasticsearch (8, 9) or OpenSearch with the bulk API; one row per batch delivered. " +
			"Events of a named consumer are acknowledged once the batch holding them is indexed; rejected documents go to the dead-letter queue.",
		Args: withCommon(
			vql.ArgSpec{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to send."},
			vql.ArgSpec{Name: "addresses", Type: vql.TypeList, Doc: "Elasticsearch nodes (default http://127.0.0.1:9200); the next is tried when one cannot be reached."},
			vql.ArgSpec{Name: "index", Type: vql.TypeString, Doc: "The index of rows without an _index column (which wins); names are lower-cased."},
			vql.ArgSpec{Name: "type", Type: vql.TypeString, Doc: "Accepted for Velociraptor's queries; Elasticsearch 8 and OpenSearch 2 have no mapping types, so it is not sent."},
			vql.ArgSpec{Name: "action", Type: vql.TypeString, Doc: "index (default: a resent document replaces itself) or create (data streams; a resent document already there counts as indexed)."},
			vql.ArgSpec{Name: "pipeline", Type: vql.TypeString, Doc: "The ingest pipeline to run documents through."},
			vql.ArgSpec{Name: "username", Type: vql.TypeString, Doc: "User for HTTP basic authentication."},
			vql.ArgSpec{Name: "password", Type: vql.TypeString, Doc: "Password for HTTP basic authentication."},
			vql.ArgSpec{Name: "api_key", Type: vql.TypeString, Doc: "An API key (base64 id:key); wins over username and password."},
			vql.ArgSpec{Name: "cloud_id", Type: vql.TypeString, Doc: "An Elastic Cloud id, instead of addresses."},
			vql.ArgSpec{Name: "disable_ssl_security", Type: vql.TypeBool, Doc: "Velociraptor's older name of skip_verify."},
			vql.ArgSpec{Name: "max_memory_buffer", Type: vql.TypeInt, Doc: "Accepted for Velociraptor's queries; nothing is buffered beyond one chunk: what is not sent stays in its queue."},
		),
	}, newElastic)
}

// elastic sends documents to the _bulk endpoint of one of its nodes.
type elastic struct {
	client    *http.Client
	addresses []string
	next      int // the node to try first
	index     string
	action    string
	pipeline  string
	auth      func(*http.Request)
}

func newElastic(scope *vql.Scope, args *vql.Args) (sink, string, bool) {
	e := &elastic{
		addresses: args.Strings("addresses"),
		index:     args.String("index", ""),
		action:    args.String("action", "index"),
		pipeline:  args.String("pipeline", ""),
	}
	user, password := args.String("username", ""), args.String("password", "")
	apiKey, cloudID := args.String("api_key", ""), args.String("cloud_id", "")
	skip := args.Bool("skip_verify", false) || args.Bool("disable_ssl_security", false)
	rootCA := args.String("root_ca", "")
	if args.Failed() {
		return nil, "", false
	}
	if e.action != "index" && e.action != "create" {
		scope.Errorf("elastic_upload: action must be index or create, not %q", e.action)
		return nil, "", false
	}
	if cloudID != "" {
		addr, err := cloudAddress(cloudID)
		if err != nil {
			scope.Errorf("elastic_upload: cloud_id: %v", err)
			return nil, "", false
		}
		e.addresses = append(e.addresses, addr)
	}
	if len(e.addresses) == 0 {
		e.addresses = []string{"http://127.0.0.1:9200"}
	}
	shown := make([]string, len(e.addresses))
	for i, a := range e.addresses {
		u, err := url.Parse(strings.TrimSpace(a))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			scope.Errorf("elastic_upload: address %q: want http:// or https:// and a host", a)
			return nil, "", false
		}
		e.addresses[i] = strings.TrimRight(u.String(), "/")
		shown[i] = u.Redacted()
	}
	switch {
	case apiKey != "":
		e.auth = func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+apiKey) }
	case user != "":
		e.auth = func(r *http.Request) { r.SetBasicAuth(user, password) }
	default:
		e.auth = func(*http.Request) {}
	}
	client, err := httpClient(skip, rootCA)
	if err != nil {
		scope.Errorf("elastic_upload: %v", err)
		return nil, "", false
	}
	e.client = client
	return e, strings.Join(shown, ","), true
}

// cloudAddress is the Elasticsearch address of an Elastic Cloud id:
// name:base64(host$elasticsearch-id$kibana-id).
func cloudAddress(id string) (string, error) {
	_, encoded, ok := strings.Cut(id, ":")
	if !ok {
		encoded = id
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("not name:base64: %w", err)
	}
	parts := strings.Split(string(raw), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", errors.New("want host$elasticsearch-id$kibana-id inside")
	}
	host, port, hasPort := strings.Cut(parts[0], ":")
	addr := "https://" + parts[1] + "." + host
	if hasPort && port != "443" {
		addr += ":" + port
	}
	return addr, nil
}

// elasticMeta are the columns that name where a document goes, not what
// it holds: Elasticsearch refuses them inside a document.
var elasticMeta = map[string]bool{"_index": true, "_id": true}

func (e *elastic) prepare(d *document) error {
	// A row's _index wins: Velociraptor's artifacts give index= and
	// name an index per artifact in _index. Index names are lower case
	// (Elasticsearch and OpenSearch take no other), as the artifacts'
	// Artifact_<name> are not.
	index := e.index
	if v, ok := d.row.Get("_index"); ok && v != nil && fmt.Sprint(v) != "" {
		index = fmt.Sprint(v)
	}
	if index == "" {
		return errors.New("no index: give index= or an _index column")
	}
	index = strings.ToLower(index)
	meta := ordereddict.NewDict().Set("_index", index)
	if d.id != "" {
		meta.Set("_id", d.id)
	}
	action, err := value.EncodeJSON(ordereddict.NewDict().Set(e.action, meta))
	if err != nil {
		return err
	}
	source := ordereddict.NewDict()
	for _, item := range d.row.Items() {
		if !elasticMeta[item.Key] {
			source.Set(item.Key, item.Value)
		}
	}
	body, err := value.EncodeJSON(source)
	if err != nil {
		return fmt.Errorf("the row cannot be encoded: %w", err)
	}
	d.body = append(append(append(action, '\n'), body...), '\n')
	return nil
}

// bulkResponse is what _bulk answers: one item per action, in order.
type bulkResponse struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]bulkItemOutcome `json:"items"`
}

type bulkItemOutcome struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

func (e *elastic) send(ctx context.Context, docs []*document) ([]result, error) {
	var body bytes.Buffer
	for _, d := range docs {
		body.Write(d.body)
	}
	addr := e.addresses[e.next]
	target := addr + "/_bulk"
	if e.pipeline != "" {
		target += "?pipeline=" + url.QueryEscape(e.pipeline)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, &body)
	if err != nil {
		return nil, &permanentError{reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	e.auth(req)
	resp, err := e.client.Do(req)
	if err != nil {
		// The next node, if there is one, is tried next time.
		e.next = (e.next + 1) % len(e.addresses)
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading the bulk response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(resp.StatusCode, answer)
	}
	var br bulkResponse
	if err := json.Unmarshal(answer, &br); err != nil {
		return nil, fmt.Errorf("bulk response is not JSON: %w", err)
	}
	if len(br.Items) != len(docs) {
		// Nothing can be told apart: send all again (same ids).
		return nil, fmt.Errorf("bulk response has %d items for %d documents", len(br.Items), len(docs))
	}
	out := make([]result, len(docs))
	for i, item := range br.Items {
		var o bulkItemOutcome
		for _, v := range item {
			o = v
		}
		out[i] = e.outcome(o)
	}
	return out, nil
}

// outcome judges one item of a bulk response.
func (e *elastic) outcome(o bulkItemOutcome) result {
	switch {
	case o.Status >= 200 && o.Status <= 299:
		return result{verdict: accepted, status: o.Status}
	case o.Status == http.StatusConflict && e.action == "create":
		// create of an id already there: an earlier send got through.
		return result{verdict: accepted, status: o.Status}
	}
	reason := fmt.Sprintf("status %d: %s", o.Status, bulkErrorText(o.Error))
	if o.Status == http.StatusTooManyRequests || o.Status >= 500 {
		return result{verdict: retry, status: o.Status, reason: reason}
	}
	return result{verdict: rejected, status: o.Status, reason: reason}
}

// bulkErrorText is an item's error as one line: "type: reason" (an object
// in Elasticsearch and OpenSearch, sometimes a bare string).
func bulkErrorText(raw json.RawMessage) string {
	var e struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(raw, &e) == nil && (e.Type != "" || e.Reason != "") {
		return strings.TrimPrefix(e.Type+": "+e.Reason, ": ")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
