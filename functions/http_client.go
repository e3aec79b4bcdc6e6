package functions

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

const (
	// httpMaxContent caps the Content returned by http_client; longer
	// bodies are cut (and a WARN logged) so one response cannot exhaust
	// memory.
	httpMaxContent = 10 << 20
	// httpDefaultTimeout bounds a request when timeout is not given.
	httpDefaultTimeout = 30.0
	// httpDefaultUserAgent is sent unless user_agent or headers say
	// otherwise.
	httpDefaultUserAgent = "vqlq"
)

// httpMethods are the methods http_client accepts.
var httpMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead,
}

// httpClient is the client every http_client() call shares (so connections
// are reused). It has its own transport: nothing global is changed. Time
// limits come from each request's context. httpInsecureClient is the same
// without checking the server's certificate (disable_ssl_security).
var httpClient, httpInsecureClient = newHTTPClient(false), newHTTPClient(true)

func newHTTPClient(skipVerify bool) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{InsecureSkipVerify: skipVerify},
		},
	}
}

// HTTPClient makes one HTTP request and returns the response as a dict.
// A failed request (bad URL or method, connection refused, timeout) is
// logged and returns Response 0 with the cause in Error, so a query that
// forwards rows sees each failure.
var HTTPClient = needs(fn("http_client",
	"Make an HTTP request; returns {Url, Method, Response, Content, Headers}, "+
		"or Response 0 and the cause in Error when the request fails.",
	[]vql.ArgSpec{
		arg("url", vql.TypeString, true, "The URL to request (http:// or https://)."),
		arg("method", vql.TypeString, false, "GET (default), POST, PUT, PATCH, DELETE or HEAD."),
		arg("headers", vql.TypeDict, false, "Request headers: a dict of header name to value."),
		arg("params", vql.TypeDict, false, "Query parameters: a dict added to those already in url (a list value repeats the parameter)."),
		arg("data", vql.TypeAny, false, "The request body: a string is sent as is, a dict or list as JSON (Content-Type application/json unless headers set one)."),
		arg("timeout", vql.TypeFloat, false, "Seconds the whole request may take, body included (default 30; 0 or less: no limit)."),
		arg("user_agent", vql.TypeString, false, "The User-Agent header (default vqlq); one given in headers wins."),
		arg("disable_ssl_security", vql.TypeBool, false, "Accept any certificate of an https server (a self-signed one); default false."),
		arg("tempfile_extension", vql.TypeString, false, "Write the body to a temporary file with this extension (\".zip\"), removed when the session ends; Content is its path (FILESYSTEM_WRITE)."),
		arg("remove_last", vql.TypeBool, false, "Remove that temporary file after every other one (tempfile(remove_last=))."),
		arg("chunk_size", vql.TypeInt, false, "In FROM: one row per this many bytes of the body (default: one row)."),
	}, httpClientCall), vql.PermNetwork)

// httpFailure is a request that could not be made or completed: shown is
// the URL as it may appear in the log.
type httpFailure struct {
	shown string
	err   error
}

func httpClientCall(c call) any {
	rawURL := c.args.String("url", "")
	method := strings.ToUpper(strings.TrimSpace(c.args.String("method", http.MethodGet)))
	timeout := c.args.Float("timeout", httpDefaultTimeout)
	userAgent := c.args.String("user_agent", httpDefaultUserAgent)
	if c.args.Failed() {
		return nil
	}
	reqURL := rawURL
	res, fail := doHTTP(c, rawURL, &reqURL, method, timeout, userAgent)
	if fail != nil {
		// A query that was cancelled is not a failure of the request:
		// nothing is logged then, but the row still says why it is empty.
		if c.ctx.Err() == nil {
			c.scope.Errorf("http_client: %s %s: %v", method, fail.shown, fail.err)
		}
		return httpResult(reqURL, method, 0, "", ordereddict.NewDict()).Set("Error", fail.err.Error())
	}
	return res
}

// doHTTP makes the request. reqURL is updated to the URL actually
// requested once it is known (query parameters added).
func doHTTP(c call, rawURL string, reqURL *string, method string, timeout float64, userAgent string) (*ordereddict.Dict, *httpFailure) {
	if !validHTTPMethod(method) {
		return nil, &httpFailure{rawURL, fmt.Errorf("invalid method %q (want one of %s)", method, strings.Join(httpMethods, ", "))}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &httpFailure{rawURL, fmt.Errorf("bad URL: %w", err)}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &httpFailure{u.Redacted(), errors.New("bad URL: want http:// or https:// and a host")}
	}
	shown := u.Redacted()

	if c.args.Has("params") {
		params, err := keyedStrings(c, "params")
		if err != nil {
			return nil, &httpFailure{shown, err}
		}
		var extra []string
		for _, p := range params {
			extra = append(extra, url.QueryEscape(p.key)+"="+url.QueryEscape(p.value))
		}
		if len(extra) > 0 {
			if u.RawQuery != "" {
				extra = append([]string{u.RawQuery}, extra...)
			}
			u.RawQuery = strings.Join(extra, "&")
		}
	}
	*reqURL = u.String()
	shown = u.Redacted()

	var headers []keyedString
	if c.args.Has("headers") {
		if headers, err = keyedStrings(c, "headers"); err != nil {
			return nil, &httpFailure{shown, err}
		}
	}

	var body io.Reader
	isJSON := false
	if c.args.Has("data") {
		switch d := c.scope.Materialize(c.ctx, c.args.Value("data")).(type) {
		case nil:
		case string:
			body = strings.NewReader(d)
		case []byte:
			body = bytes.NewReader(d)
		default:
			b, err := value.EncodeJSON(d)
			if err != nil {
				return nil, &httpFailure{shown, fmt.Errorf("data: %w", err)}
			}
			body, isJSON = bytes.NewReader(b), true
		}
	}

	ctx, cancel := c.ctx, context.CancelFunc(func() {})
	limit := time.Duration(timeout * float64(time.Second))
	if limit > 0 {
		ctx, cancel = context.WithTimeout(c.ctx, limit)
	}
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, method, *reqURL, body)
	if err != nil {
		return nil, &httpFailure{shown, err}
	}
	req.Header.Set("User-Agent", userAgent)
	for _, h := range headers {
		if http.CanonicalHeaderKey(h.key) == "Host" {
			req.Host = h.value
			continue
		}
		req.Header.Add(h.key, h.value)
	}
	if isJSON && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}

	client := httpClient
	if c.args.Bool("disable_ssl_security", false) {
		client = httpInsecureClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &httpFailure{shown, httpCause(err, ctx, c.ctx, limit)}
	}
	defer resp.Body.Close()
	if c.args.Has("tempfile_extension") {
		path, err := bodyToTempfile(c, resp.Body)
		if err != nil {
			return nil, &httpFailure{shown, httpCause(err, ctx, c.ctx, limit)}
		}
		return httpResult(*reqURL, method, int64(resp.StatusCode), path, responseHeaders(resp)), nil
	}
	content, err := io.ReadAll(io.LimitReader(resp.Body, httpMaxContent+1))
	if err != nil {
		return nil, &httpFailure{shown, httpCause(err, ctx, c.ctx, limit)}
	}
	if len(content) > httpMaxContent {
		content = content[:httpMaxContent]
		c.scope.Log(vql.LevelWarn, "http_client: %s %s: response body is larger than %d bytes; Content is cut to that size",
			method, shown, httpMaxContent)
	}

	return httpResult(*reqURL, method, int64(resp.StatusCode), string(content), responseHeaders(resp)), nil
}

// responseHeaders are the response's headers, the first value of each.
func responseHeaders(resp *http.Response) *ordereddict.Dict {
	respHeaders := ordereddict.NewDict()
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if v := resp.Header[k]; len(v) > 0 {
			respHeaders.Set(k, v[0])
		}
	}
	return respHeaders
}

// bodyToTempfile streams a response body into a temporary file of the
// session, as the library's artifacts download archives to glob inside:
// the body never sits in memory, whatever its size.
func bodyToTempfile(c call, body io.Reader) (string, error) {
	ext := c.args.String("tempfile_extension", "")
	if strings.ContainsAny(ext, `/\`) {
		return "", fmt.Errorf("tempfile_extension %q holds a separator", ext)
	}
	if !c.scope.Require("http_client", vql.PermFilesystemWrite) {
		return "", errors.New("writing a temporary file needs FILESYSTEM_WRITE")
	}
	f, err := os.CreateTemp("", "vqlq-*"+ext)
	if err != nil {
		return "", err
	}
	name := f.Name()
	c.scope.AtEnd(func() { os.Remove(name) }, c.args.Bool("remove_last", false))
	_, err = io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return name, err
}

func httpResult(u, method string, status int64, content string, headers *ordereddict.Dict) *ordereddict.Dict {
	return ordereddict.NewDict().
		Set("Url", u).
		Set("Method", method).
		Set("Response", status).
		Set("Content", content).
		Set("Headers", headers)
}

func validHTTPMethod(m string) bool {
	for _, ok := range httpMethods {
		if m == ok {
			return true
		}
	}
	return false
}

// httpCause turns a client error into its cause: the transport's message
// without the repeated method and URL, or a plain word for a timeout or a
// cancelled query.
func httpCause(err error, reqCtx, queryCtx context.Context, limit time.Duration) error {
	switch {
	case queryCtx.Err() != nil:
		return errors.New("query cancelled")
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %v", limit)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type keyedString struct{ key, value string }

// keyedStrings reads a dict argument as name/value pairs in the dict's
// order. Values are converted to strings; a list value gives one pair per
// element.
func keyedStrings(c call, name string) ([]keyedString, error) {
	v := c.scope.Materialize(c.ctx, c.args.Value(name))
	if v == nil {
		return nil, nil
	}
	keys := value.Keys(v)
	if keys == nil {
		if _, isDict := v.(*ordereddict.Dict); !isDict {
			return nil, fmt.Errorf("%s should be a dict", name)
		}
	}
	var out []keyedString
	for _, k := range keys {
		m, _ := value.Member(v, k)
		if l, ok := value.AsList(m); ok {
			for _, e := range l {
				out = append(out, keyedString{k, toString(e)})
			}
			continue
		}
		out = append(out, keyedString{k, toString(m)})
	}
	return out, nil
}
