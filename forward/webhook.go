package forward

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

func webhookUpload(provider queues.Provider) vql.Plugin {
	return forwarderPlugin(provider, vql.Info{
		Name: "webhook_upload",
		Doc: "Send each row of query to a webhook as a JSON body, one request per row; one row per batch delivered. " +
			"An event of a named consumer is acknowledged only once the webhook answered 2xx for its rows; rows it refuses with a 4xx go to the dead-letter queue.",
		Args: withCommon(
			vql.ArgSpec{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to send."},
			vql.ArgSpec{Name: "url", Type: vql.TypeString, Required: true, Doc: "The webhook (http:// or https://)."},
			vql.ArgSpec{Name: "method", Type: vql.TypeString, Doc: "POST (default), PUT or PATCH."},
			vql.ArgSpec{Name: "headers", Type: vql.TypeDict, Doc: "Request headers: a dict of header name to value."},
		),
	}, newWebhook)
}

// webhook sends one request per document. The document's id goes in
// Idempotency-Key, so a receiver can drop the repeat of a request whose
// answer was lost.
type webhook struct {
	client  *http.Client
	url     string
	method  string
	headers http.Header
}

func newWebhook(scope *vql.Scope, args *vql.Args) (sink, string, bool) {
	w := &webhook{url: args.String("url", ""), method: strings.ToUpper(args.String("method", http.MethodPost)), headers: http.Header{}}
	skip, rootCA := args.Bool("skip_verify", false), args.String("root_ca", "")
	if args.Failed() {
		return nil, "", false
	}
	if w.method != http.MethodPost && w.method != http.MethodPut && w.method != http.MethodPatch {
		scope.Errorf("webhook_upload: method must be POST, PUT or PATCH, not %q", w.method)
		return nil, "", false
	}
	u, err := url.Parse(w.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		scope.Errorf("webhook_upload: url %q: want http:// or https:// and a host", w.url)
		return nil, "", false
	}
	if h, ok := args.Get("headers"); ok && h != nil {
		for _, k := range value.Keys(h) {
			v, _ := value.Member(h, k)
			w.headers.Set(k, fmt.Sprint(v))
		}
	}
	if w.client, err = httpClient(skip, rootCA); err != nil {
		scope.Errorf("webhook_upload: %v", err)
		return nil, "", false
	}
	// A webhook's path often holds its secret (chat webhooks): consumers()
	// and the debug page show only where it goes.
	return w, u.Scheme + "://" + u.Host, true
}

func (w *webhook) prepare(d *document) error {
	b, err := value.EncodeJSON(d.row)
	if err != nil {
		return fmt.Errorf("the row cannot be encoded: %w", err)
	}
	d.body = b
	return nil
}

// send posts the documents in order and stops at the first that fails
// for a reason that may pass: the rest wait their turn.
func (w *webhook) send(ctx context.Context, docs []*document) ([]result, error) {
	out := make([]result, len(docs))
	for i, d := range docs {
		r, err := w.post(ctx, d)
		if err != nil {
			for j := i; j < len(docs); j++ {
				out[j] = result{verdict: unsent}
			}
			out[i] = result{verdict: retry, reason: err.Error()}
			return out, nil
		}
		out[i] = r
	}
	return out, nil
}

// post sends one document: a result when the webhook answered for it
// (taken, or refused for good), an error when it may take it later.
func (w *webhook) post(ctx context.Context, d *document) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, w.method, w.url, bytes.NewReader(d.body))
	if err != nil {
		return result{verdict: rejected, reason: err.Error()}, nil
	}
	for k, v := range w.headers {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if d.id != "" {
		req.Header.Set("Idempotency-Key", d.id)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return result{verdict: accepted, status: resp.StatusCode}, nil
	}
	err = statusError(resp.StatusCode, raw)
	if pe, ok := err.(*permanentError); ok {
		return result{verdict: rejected, status: pe.status, reason: pe.reason}, nil
	}
	return result{}, err
}
