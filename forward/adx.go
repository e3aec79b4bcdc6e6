package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Velocidex/ordereddict"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// adx_upload sends rows to Azure Data Explorer (Kusto) with the streaming
// ingestion REST API: POST <cluster>/v1/rest/ingest/<db>/<table>
// ?streamFormat=json, a batch of JSON lines, authenticated with a
// Microsoft Entra (AAD) token for <cluster>/.default, obtained with the
// service principal's client credentials (or given as token=).
//
// Velociraptor's plugin uses Kusto's managed ingest client, which streams
// and falls back to queued ingestion (a blob in the cluster's staging
// storage, announced on its ingestion queue) when streaming is refused or
// a batch is large. Queued ingestion is not supported here: the table (or
// its database) must have the streaming ingestion policy enabled; a
// cluster that refuses streaming is reported and retried, never
// dead-lettered, and a batch over the streaming limit (4 MB) is split by
// the forwarder until it fits.
func adxUpload(provider queues.Provider) vql.Plugin {
	return forwarderPlugin(provider, vql.Info{
		Name: "adx_upload",
		Doc: "Send the rows of query to Azure Data Explorer (Kusto) with streaming ingestion, as {IngestionTime, Artifact, ClientId, FlowId, Organization, Hostname, Timestamp, RawData}; one row per batch delivered. " +
			"Events of a named consumer are acknowledged once the cluster ingested the batch holding them; rejected rows go to the dead-letter queue. Queued ingestion is not supported: enable the streaming ingestion policy on the table.",
		Args: withCommon(
			vql.ArgSpec{Name: "query", Type: vql.TypeQuery, Required: true, Doc: "The rows to send."},
			vql.ArgSpec{Name: "cluster_url", Type: vql.TypeString, Doc: "The cluster (https://<cluster>.<region>.kusto.windows.net)."},
			vql.ArgSpec{Name: "database", Type: vql.TypeString, Doc: "The database."},
			vql.ArgSpec{Name: "table", Type: vql.TypeString, Doc: "The table (default RawVelociraptorEvents)."},
			vql.ArgSpec{Name: "client_id", Type: vql.TypeString, Doc: "The service principal's application (client) id."},
			vql.ArgSpec{Name: "client_secret", Type: vql.TypeString, Doc: "The service principal's secret."},
			vql.ArgSpec{Name: "tenant_id", Type: vql.TypeString, Doc: "The service principal's tenant."},
			vql.ArgSpec{Name: "secret", Type: vql.TypeString, Doc: "A server_metadata() entry holding the settings (a dict with cluster_url, database, table, client_id, client_secret, tenant_id; its values win over the arguments), as vqlq keeps what Velociraptor's secrets service holds."},
			vql.ArgSpec{Name: "token", Type: vql.TypeString, Doc: "A bearer token for the cluster, instead of client credentials (vqlq's)."},
			vql.ArgSpec{Name: "authority_host", Type: vql.TypeString, Doc: "The Microsoft Entra authority (default https://login.microsoftonline.com; another for a national cloud) (vqlq's)."},
			vql.ArgSpec{Name: "max_memory_buffer", Type: vql.TypeInt, Doc: "Accepted for Velociraptor's queries; nothing is buffered beyond one chunk: what is not sent stays in its queue."},
		),
	}, newADXFor(provider))
}

// adxSettings are what a secret entry may hold.
var adxSettings = []string{"cluster_url", "database", "table", "client_id", "client_secret", "tenant_id"}

// adx sends batches of JSON lines to one table.
type adx struct {
	client *http.Client
	url    string // the table's streaming ingestion endpoint
	tokens *adxTokens
}

func newADXFor(provider queues.Provider) func(scope *vql.Scope, args *vql.Args) (sink, string, bool) {
	return func(scope *vql.Scope, args *vql.Args) (sink, string, bool) {
		set := map[string]string{}
		for _, k := range adxSettings {
			set[k] = args.String(k, "")
		}
		secret, token := args.String("secret", ""), args.String("token", "")
		authority := args.String("authority_host", "https://login.microsoftonline.com")
		skip, rootCA := args.Bool("skip_verify", false), args.String("root_ca", "")
		if args.Failed() {
			return nil, "", false
		}
		if secret != "" {
			if err := adxSecret(scope, provider, secret, set); err != nil {
				scope.Errorf("adx_upload: secret: %v", err)
				return nil, "", false
			}
		}
		if set["table"] == "" {
			set["table"] = "RawVelociraptorEvents"
		}
		cluster, err := url.Parse(strings.TrimRight(set["cluster_url"], "/"))
		switch {
		case set["cluster_url"] == "":
			scope.Errorf("adx_upload: cluster_url is required")
			return nil, "", false
		case err != nil || (cluster.Scheme != "https" && cluster.Scheme != "http") || cluster.Host == "":
			scope.Errorf("adx_upload: cluster_url %q: want https:// and a host", set["cluster_url"])
			return nil, "", false
		case set["database"] == "":
			scope.Errorf("adx_upload: database is required")
			return nil, "", false
		case token == "" && (set["client_id"] == "" || set["client_secret"] == "" || set["tenant_id"] == ""):
			scope.Errorf("adx_upload: client_id, client_secret and tenant_id are required (or token)")
			return nil, "", false
		}
		a := &adx{url: cluster.String() + "/v1/rest/ingest/" + url.PathEscape(set["database"]) + "/" + url.PathEscape(set["table"]) + "?streamFormat=json"}
		if a.client, err = httpClient(skip, rootCA); err != nil {
			scope.Errorf("adx_upload: %v", err)
			return nil, "", false
		}
		a.tokens = &adxTokens{static: token, client: a.client}
		if token == "" {
			au, err := url.Parse(strings.TrimRight(authority, "/"))
			if err != nil || (au.Scheme != "https" && au.Scheme != "http") || au.Host == "" {
				scope.Errorf("adx_upload: authority_host %q: want https:// and a host", authority)
				return nil, "", false
			}
			a.tokens.config = &clientcredentials.Config{
				ClientID:     set["client_id"],
				ClientSecret: set["client_secret"],
				TokenURL:     au.String() + "/" + url.PathEscape(set["tenant_id"]) + "/oauth2/v2.0/token",
				Scopes:       []string{cluster.String() + "/.default"},
				AuthStyle:    oauth2.AuthStyleInParams,
			}
		}
		return a, cluster.Redacted() + " " + set["database"] + "." + set["table"], true
	}
}

// adxSecret merges a server_metadata() entry's settings over set.
func adxSecret(scope *vql.Scope, provider queues.Provider, name string, set map[string]string) error {
	m, err := provider()
	if err != nil {
		return err
	}
	md, err := m.ServerMetadata(plugins.OrgOf(scope))
	if err != nil {
		return err
	}
	v, ok := md.Get(name)
	if !ok {
		return fmt.Errorf("no server_metadata() entry %q", name)
	}
	entry, ok := v.(*ordereddict.Dict)
	if !ok {
		return fmt.Errorf("server_metadata() entry %q is not a dict of ADX settings", name)
	}
	for _, k := range adxSettings {
		if v, ok := entry.Get(k); ok && v != nil && fmt.Sprint(v) != "" {
			set[k] = fmt.Sprint(v)
		}
	}
	return nil
}

// tune gives Velociraptor's defaults: 1000 rows, 5 seconds.
func (a *adx) tune(args *vql.Args, o *options) error {
	if !args.Has("chunk_size") {
		o.chunk = 1000
	}
	if !args.Has("wait_time") {
		o.wait = 5 * time.Second
	}
	return commonRetries(o)
}

// adxMeta are the columns made into the table's own; the rest of a row is
// its RawData. The artifacts name them with a leading _ (ADX.Flows.Upload
// selects _Artifact, _ClientId, …), which is taken when the plain name is
// missing.
var adxMeta = []string{"Artifact", "ClientId", "FlowId", "Organization", "Hostname"}

func (a *adx) prepare(d *document) error {
	raw := ordereddict.NewDict()
	drop := map[string]bool{}
	meta := ordereddict.NewDict().Set("IngestionTime", time.Now().UTC().Format(time.RFC3339))
	for _, k := range adxMeta {
		v := pick(d.row, k, "_"+k)
		drop[k], drop["_"+k] = true, true
		s := ""
		if v != nil {
			s = fmt.Sprint(v)
		}
		meta.Set(k, s)
	}
	// Timestamp and timestamp stay in RawData, as Velociraptor keeps
	// them; _timestamp is the artifact's column for this one.
	meta.Set("Timestamp", pick(d.row, "Timestamp", "timestamp", "_timestamp"))
	drop["_timestamp"] = true
	for _, item := range d.row.Items() {
		if !drop[item.Key] {
			raw.Set(item.Key, item.Value)
		}
	}
	if d.id != "" {
		// Streaming ingestion keeps no ids: a field lets a query tell
		// the copies of a batch sent twice (a lost answer) apart.
		raw.Set("vqlq_id", d.id)
	}
	meta.Set("RawData", raw)
	b, err := value.EncodeJSON(meta)
	if err != nil {
		return fmt.Errorf("the row cannot be encoded: %w", err)
	}
	d.body = append(b, '\n')
	return nil
}

// pick is the first of the columns the row has (not NULL).
func pick(row *ordereddict.Dict, columns ...string) any {
	for _, c := range columns {
		if v, ok := row.Get(c); ok && v != nil {
			return v
		}
	}
	return nil
}

// kustoError is the error a cluster answers: "@permanent" says whether
// the same request can succeed later.
type kustoError struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Type      string `json:"@type"`
		Permanent bool   `json:"@permanent"`
	} `json:"error"`
}

func (a *adx) send(ctx context.Context, docs []*document) ([]result, error) {
	var body bytes.Buffer
	for _, d := range docs {
		body.Write(d.body)
	}
	token, err := a.tokens.get(ctx)
	if err != nil {
		// Credentials are the operator's to fix: the rows wait.
		return nil, fmt.Errorf("getting a token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, &body)
	if err != nil {
		return nil, &permanentError{reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("x-ms-app", "vqlq")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's answer: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		out := make([]result, len(docs))
		for i := range out {
			out[i] = result{verdict: accepted, status: resp.StatusCode}
		}
		return out, nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		a.tokens.reset()
	}
	return nil, kustoStatusError(resp.StatusCode, raw)
}

// kustoStatusError judges a refusal. A cluster that has no streaming
// policy, database or table for it, or that refuses the principal, says
// so with a permanent 4xx: that is the setup's fault, not the rows', and
// they wait for it to be fixed rather than being dead-lettered.
func kustoStatusError(code int, raw []byte) error {
	var ke kustoError
	if json.Unmarshal(raw, &ke) != nil || ke.Error.Code == "" {
		return statusError(code, raw)
	}
	reason := fmt.Sprintf("HTTP %d: %s: %s", code, ke.Error.Code, ke.Error.Message)
	if code == http.StatusRequestEntityTooLarge {
		return &permanentError{status: code, reason: reason}
	}
	if retryableStatus(code) || !ke.Error.Permanent || kustoSetupError(ke.Error.Code+" "+ke.Error.Type+" "+ke.Error.Message) {
		return errors.New(reason)
	}
	return &permanentError{status: code, reason: reason}
}

// kustoSetupError recognizes the errors of a cluster not set up for the
// ingestion (Kusto names them in its codes and messages).
func kustoSetupError(text string) bool {
	text = strings.ToLower(text)
	for _, s := range []string{"streamingingestionpolicy", "streaming ingestion policy", "streaming ingestion is not enabled", "notfound", "not found", "does not exist", "unauthorized", "forbidden", "principal"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// adxTokens hands out the bearer token: the given one, or one obtained
// with the client credentials and kept until it expires (or the cluster
// refuses it).
type adxTokens struct {
	static string
	config *clientcredentials.Config
	client *http.Client
	mu     sync.Mutex
	source oauth2.TokenSource
}

func (t *adxTokens) get(ctx context.Context) (string, error) {
	if t.static != "" {
		return t.static, nil
	}
	t.mu.Lock()
	if t.source == nil {
		// The token source keeps the context for its refreshes: the
		// forwarder's, with this sink's transport and a time limit.
		client := &http.Client{Transport: t.client.Transport, Timeout: requestTimeout}
		t.source = oauth2.ReuseTokenSource(nil, t.config.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, client)))
	}
	src := t.source
	t.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return "", tokenError(err)
	}
	return tok.AccessToken, nil
}

func (t *adxTokens) reset() {
	t.mu.Lock()
	t.source = nil
	t.mu.Unlock()
}

// tokenError is a failed token request in a line: the authority's error
// and description, without the response dump.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		text := re.ErrorDescription
		if i := strings.IndexAny(text, "\r\n"); i >= 0 {
			text = text[:i]
		}
		code := re.ErrorCode
		if code == "" {
			// Not every flow parses the body (the JWT one does not).
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil && body.Error != "" {
				code, text = body.Error, body.Description
			}
		}
		if code != "" {
			return fmt.Errorf("HTTP %d: %s: %s", re.Response.StatusCode, code, text)
		}
		return fmt.Errorf("HTTP %d: %s", re.Response.StatusCode, strings.TrimSpace(string(re.Body)))
	}
	return err
}
