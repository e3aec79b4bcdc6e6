package forward

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// upload_gcs stores one file in a Google Cloud Storage bucket with the
// JSON API's resumable upload: the file streams in chunks, each kept in
// memory until the bucket has it, so that a chunk cut off (a 5xx, a
// dropped connection) is sent again from where the bucket says it
// stopped, and a file of any size takes one chunk of memory. The
// service-account key's signed JWT is exchanged for an access token at
// its token_uri (golang.org/x/oauth2/google), once per call: a token
// source cannot outlive the query that made it.
func uploadGCS() vql.Function {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name: "upload_gcs",
			Doc: "Upload a file (read through accessor) to a Google Cloud Storage bucket as name, authenticated with a service-account key; " +
				"returns {Path, Size, StoredSize, sha256, md5, StoredName, Accessor} once the bucket holds it and its MD5 matches, else NULL with the reason logged.",
			Args: []vql.ArgSpec{
				{Name: "file", Type: vql.TypeAny, Required: true, Doc: "The file to upload (a path or a pathspec)."},
				{Name: "name", Type: vql.TypeString, Doc: "The object's name in the bucket (default: the file's path)."},
				{Name: "accessor", Type: vql.TypeString, Doc: "The accessor to read the file with (default auto)."},
				{Name: "bucket", Type: vql.TypeString, Required: true, Doc: "The bucket."},
				{Name: "project", Type: vql.TypeString, Required: true, Doc: "The bucket's project; required as Velociraptor's is, though an upload names only the bucket."},
				{Name: "credentials", Type: vql.TypeString, Required: true, Doc: "The service account's JSON key (as the console downloads it)."},
				{Name: "endpoint", Type: vql.TypeString, Doc: "The storage API (default https://storage.googleapis.com; another for an emulator or a private endpoint) (vqlq's)."},
			},
			Permissions: []vql.Permission{vql.PermNetwork, vql.PermFilesystemRead},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			row, err := gcsCall(ctx, scope, args)
			if err != nil {
				scope.Errorf("upload_gcs: %v", err)
				return nil
			}
			if row == nil {
				// Refused already, with the reason logged.
				return nil
			}
			return row
		},
	}
}

// gcsChunk is what one request of a resumable upload carries: a multiple
// of 256 KiB, as the API requires of every chunk but the last.
const gcsChunk = 8 << 20

// gcsScope is what the token allows: writing objects.
const gcsScope = "https://www.googleapis.com/auth/devstorage.read_write"

// gcsTries bounds the attempts at one chunk.
const gcsTries = 6

// gcsRetryWait is the first wait before a chunk is sent again; it
// doubles with each failure.
var gcsRetryWait = 500 * time.Millisecond

func gcsCall(ctx context.Context, scope *vql.Scope, args *vql.Args) (*ordereddict.Dict, error) {
	bucket, project := args.String("bucket", ""), args.String("project", "")
	creds := args.String("credentials", "")
	endpoint := strings.TrimRight(args.String("endpoint", "https://storage.googleapis.com"), "/")
	name := args.String("name", "")
	acc := args.String("accessor", accessors.Default)
	file := args.Value("file")
	if args.Failed() {
		return nil, nil
	}
	switch {
	case bucket == "":
		return nil, errors.New("bucket must not be empty")
	case project == "":
		return nil, errors.New("project must not be empty")
	case creds == "":
		return nil, errors.New("credentials must not be empty (the service account's JSON key)")
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want https:// and a host", endpoint)
	}
	conf, err := google.JWTConfigFromJSON([]byte(creds), gcsScope)
	if err == nil {
		err = checkKey(conf.Email, conf.PrivateKey)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if name == "" {
		name = accessors.PathString(file)
	}
	if name == "" {
		return nil, errors.New("name: the object needs a name")
	}
	r, ok := accessors.OpenArg(ctx, scope, args, "upload_gcs", "file")
	if !ok {
		return nil, nil
	}
	defer r.Close()
	client, err := httpClient(false, "")
	if err != nil {
		return nil, err
	}
	// The token request goes through the same transport, with a time
	// limit of its own.
	tokenCtx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: client.Transport, Timeout: requestTimeout})
	up := &gcsUpload{
		ctx: ctx, client: client, tokens: oauth2.ReuseTokenSource(nil, conf.TokenSource(tokenCtx)),
		sha: sha256.New(), md5: md5.New(), scope: scope,
	}
	scope.Log(vql.LevelInfo, "upload_gcs: uploading %s to gs://%s", name, bucket)
	obj, err := up.run(endpoint, bucket, name, accessors.Reader(ctx, r))
	if err != nil {
		return nil, err
	}
	sum := up.md5.Sum(nil)
	if want := base64.StdEncoding.EncodeToString(sum); obj.MD5Hash != "" && obj.MD5Hash != want {
		return nil, fmt.Errorf("gs://%s/%s: the bucket's MD5 %s is not the file's %s", bucket, name, obj.MD5Hash, want)
	}
	if obj.Size != "" && obj.Size != strconv.FormatInt(up.sent, 10) {
		return nil, fmt.Errorf("gs://%s/%s: the bucket holds %s bytes, %d were sent", bucket, name, obj.Size, up.sent)
	}
	return ordereddict.NewDict().Set("Path", name).Set("Size", up.sent).Set("StoredSize", up.sent).
		Set("sha256", hex.EncodeToString(up.sha.Sum(nil))).Set("md5", hex.EncodeToString(sum)).
		Set("StoredName", "gs://"+bucket+"/"+name).Set("Accessor", acc), nil
}

// checkKey refuses a key before anything is sent: the token source
// would only find out at its first request.
func checkKey(email string, key []byte) error {
	if email == "" {
		return errors.New("the key has no client_email")
	}
	block, _ := pem.Decode(key)
	if block == nil {
		return errors.New("the key's private_key is not PEM")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 != nil {
			return fmt.Errorf("the key's private_key: %w", err)
		}
	}
	return nil
}

// gcsObject is the part of the object resource the upload checks.
type gcsObject struct {
	Name       string `json:"name"`
	Bucket     string `json:"bucket"`
	Size       string `json:"size"`
	MD5Hash    string `json:"md5Hash"`
	Generation string `json:"generation"`
}

// gcsUpload is one resumable upload under way.
type gcsUpload struct {
	ctx     context.Context
	client  *http.Client
	tokens  oauth2.TokenSource
	session string // the upload's URI
	sent    int64  // bytes the bucket has
	sha     hash.Hash
	md5     hash.Hash
	scope   *vql.Scope
}

// do sends one authenticated request.
func (u *gcsUpload) do(method, target string, body []byte, header http.Header) (*http.Response, []byte, error) {
	tok, err := u.tokens.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errGCSToken, tokenError(err))
	}
	ctx, cancel := context.WithTimeout(u.ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return resp, raw, err
}

func (u *gcsUpload) run(endpoint, bucket, name string, r io.Reader) (*gcsObject, error) {
	start := endpoint + "/upload/storage/v1/b/" + url.PathEscape(bucket) + "/o?uploadType=resumable&name=" + url.QueryEscape(name)
	meta, _ := json.Marshal(map[string]string{"name": name})
	resp, raw, err := u.do(http.MethodPost, start, meta, http.Header{
		"Content-Type":          {"application/json; charset=UTF-8"},
		"X-Upload-Content-Type": {"application/octet-stream"},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the upload: %w", err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("starting the upload: %w", statusError(resp.StatusCode, raw))
	}
	if u.session = resp.Header.Get("Location"); u.session == "" {
		return nil, errors.New("starting the upload: no session URI (Location) in the answer")
	}
	buf := make([]byte, gcsChunk)
	for {
		n, err := io.ReadFull(r, buf)
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			u.cancel()
			return nil, fmt.Errorf("reading the file: %w", err)
		}
		u.sha.Write(buf[:n])
		u.md5.Write(buf[:n])
		obj, err := u.chunk(buf[:n], last)
		if err != nil {
			u.cancel()
			return nil, err
		}
		if last {
			if obj == nil {
				return nil, errors.New("the bucket did not finish the object after its last byte")
			}
			return obj, nil
		}
	}
}

// chunk delivers data, which starts at u.sent, and returns the object
// once the last chunk is in. A request that fails for a reason that may
// pass is followed by a status query and the rest of the chunk, from the
// byte the bucket reports, with backoff.
func (u *gcsUpload) chunk(data []byte, last bool) (*gcsObject, error) {
	base := u.sent
	end := base + int64(len(data))
	total := "*"
	if last {
		total = strconv.FormatInt(end, 10)
	}
	wait := gcsRetryWait
	for try := 1; ; try++ {
		if try > 4*gcsTries {
			return nil, fmt.Errorf("byte %d: the bucket takes no more of the chunk", u.sent)
		}
		if u.sent < base || u.sent > end {
			return nil, fmt.Errorf("the bucket holds %d bytes of the upload, this chunk is bytes %d to %d", u.sent, base, end)
		}
		part := data[u.sent-base:]
		rng := "bytes */" + total
		if len(part) > 0 {
			rng = fmt.Sprintf("bytes %d-%d/%s", u.sent, end-1, total)
		}
		obj, done, err := u.put(part, rng)
		switch {
		case err == nil && done:
			u.sent = end
			return obj, nil
		case err == nil && u.sent >= end && !last:
			return nil, nil
		case err == nil:
			// The bucket kept part of it: the rest goes at once.
			continue
		case !errors.As(err, new(*gcsRetryable)):
			return nil, err
		}
		if try >= gcsTries {
			return nil, fmt.Errorf("byte %d: gave up after %d attempts: %w", u.sent, try, err)
		}
		u.scope.Log(vql.LevelWarn, "upload_gcs: byte %d: %v; sending again in %v", u.sent, err, wait)
		select {
		case <-time.After(wait):
		case <-u.ctx.Done():
			return nil, u.ctx.Err()
		}
		wait *= 2
		// How much of it got there before the failure?
		obj, done, err = u.put(nil, "bytes */"+total)
		switch {
		case err == nil && done:
			u.sent = end
			return obj, nil
		case err != nil && !errors.As(err, new(*gcsRetryable)):
			return nil, err
		}
	}
}

// put sends one request of the upload and reads the answer.
func (u *gcsUpload) put(part []byte, rng string) (*gcsObject, bool, error) {
	resp, raw, err := u.do(http.MethodPut, u.session, part, http.Header{"Content-Range": {rng}})
	if err != nil {
		if u.ctx.Err() != nil || errors.Is(err, errGCSToken) {
			return nil, false, err
		}
		return nil, false, &gcsRetryable{err}
	}
	return u.answer(resp, raw)
}

// errGCSToken is a token the key's token_uri would not give: the key
// or the account is wrong, which no repeat of the upload fixes.
var errGCSToken = errors.New("getting a token")

// gcsRetryable is a failure of the upload that may pass.
type gcsRetryable struct{ err error }

func (e *gcsRetryable) Error() string { return e.err.Error() }

// answer reads the bucket's answer to a chunk: done with the object, or
// 308 with how much it holds.
func (u *gcsUpload) answer(resp *http.Response, raw []byte) (*gcsObject, bool, error) {
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
		var obj gcsObject
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, false, fmt.Errorf("the object resource is not JSON: %w", err)
		}
		return &obj, true, nil
	case resp.StatusCode == http.StatusPermanentRedirect:
		// Range: bytes=0-N is what the bucket holds; none when nothing.
		u.sent = 0
		if r := resp.Header.Get("Range"); r != "" {
			_, hi, ok := strings.Cut(strings.TrimPrefix(r, "bytes="), "-")
			n, err := strconv.ParseInt(hi, 10, 64)
			if !ok || err != nil {
				return nil, false, fmt.Errorf("the bucket answered Range %q", r)
			}
			u.sent = n + 1
		}
		return nil, false, nil
	}
	err := statusError(resp.StatusCode, raw)
	var pe *permanentError
	if errors.As(err, &pe) || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		// A 404 or 410 of the session URI: the upload is over.
		return nil, false, err
	}
	return nil, false, &gcsRetryable{err}
}

// cancel ends an upload that will not finish, so that the bucket drops
// what it holds of it.
func (u *gcsUpload) cancel() {
	if u.session == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.session, nil)
	if err != nil {
		return
	}
	if resp, err := u.client.Do(req); err == nil {
		resp.Body.Close()
	}
}
