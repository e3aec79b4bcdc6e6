package forward_test

import (
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vqlq/vqlq/vql"
)

// No Google Cloud Storage can run here: gcsServer is a real HTTP server
// on loopback that speaks what upload_gcs uses of it — the OAuth 2.0
// token endpoint of a service-account key (a JWT bearer assertion, RS256,
// checked against the key the test generated), and the JSON API's
// resumable upload (a session started with POST …/o?uploadType=resumable,
// chunks PUT with Content-Range, 308 with Range for what it holds, the
// object resource with its md5Hash at the end) — with a failure injected:
// a chunk of which only half arrives before a 503.
type gcsServer struct {
	t        *testing.T
	base     string
	key      *rsa.PublicKey
	email    string
	mu       sync.Mutex
	tokens   int
	puts     int          // chunk PUTs with data
	failPut  map[int]bool // data PUTs cut off after half their bytes, with a 503
	sessions map[string]*bytes.Buffer
	objects  map[string][]byte
}

func newGCSServer(t *testing.T, key *rsa.PublicKey, email string) *gcsServer {
	return &gcsServer{t: t, key: key, email: email, failPut: map[int]bool{}, sessions: map[string]*bytes.Buffer{}, objects: map[string][]byte{}}
}

func gcsError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q}}`, code, msg)
}

func (g *gcsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		g.token(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer gcs-token" {
		gcsError(w, http.StatusUnauthorized, "Invalid Credentials")
		return
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/upload/storage/v1/b/") && q.Get("uploadType") == "resumable":
		bucket := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/upload/storage/v1/b/"), "/o")
		if bucket != "evidence" {
			gcsError(w, http.StatusNotFound, "The specified bucket does not exist.")
			return
		}
		var meta map[string]string
		if json.NewDecoder(r.Body).Decode(&meta) != nil || meta["name"] != q.Get("name") {
			gcsError(w, http.StatusBadRequest, "the metadata does not name the object")
			return
		}
		g.mu.Lock()
		id := strconv.Itoa(len(g.sessions) + 1)
		g.sessions[id] = &bytes.Buffer{}
		g.mu.Unlock()
		w.Header().Set("Location", g.base+"/upload/storage/v1/b/evidence/o?uploadType=resumable&name="+url.QueryEscape(q.Get("name"))+"&upload_id="+id)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && q.Get("upload_id") != "":
		g.chunk(w, r, q.Get("upload_id"), q.Get("name"))
	default:
		gcsError(w, http.StatusNotFound, "no such API "+r.Method+" "+r.URL.Path)
	}
}

// token checks the JWT bearer assertion of the service account.
func (g *gcsServer) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		gcsError(w, http.StatusBadRequest, "unsupported grant type")
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	bad := func(why string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, why)
	}
	if len(parts) != 3 {
		bad("not a JWT")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(g.key, crypto.SHA256, digest[:], sig) != nil {
		bad("Invalid JWT Signature.")
		return
	}
	var header struct{ Alg string }
	var claims struct {
		Iss, Aud, Scope string
		Exp, Iat        int64
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &header) != nil || json.Unmarshal(c, &claims) != nil || header.Alg != "RS256" {
		bad("malformed JWT")
		return
	}
	now := time.Now().Unix()
	if claims.Iss != g.email || claims.Aud != g.base+"/token" || !strings.Contains(claims.Scope, "devstorage.read_write") || claims.Exp < now || claims.Iat > now+60 {
		bad(fmt.Sprintf("claims %+v", claims))
		return
	}
	g.mu.Lock()
	g.tokens++
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"access_token":"gcs-token","token_type":"Bearer","expires_in":3599}`)
}

// chunk takes one PUT of a session: Content-Range bytes a-b/total (data)
// or bytes */total (a status query, or the end of an upload whose size
// was not known).
func (g *gcsServer) chunk(w http.ResponseWriter, r *http.Request, id, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	held := g.sessions[id]
	if held == nil {
		gcsError(w, http.StatusNotFound, "no such upload")
		return
	}
	spec, ok := strings.CutPrefix(r.Header.Get("Content-Range"), "bytes ")
	rng, total, ok2 := strings.Cut(spec, "/")
	if !ok || !ok2 {
		gcsError(w, http.StatusBadRequest, "bad Content-Range "+r.Header.Get("Content-Range"))
		return
	}
	if rng != "*" {
		lo, hi, _ := strings.Cut(rng, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a != held.Len() || b < a {
			gcsError(w, http.StatusBadRequest, fmt.Sprintf("range %s does not follow the %d bytes held", rng, held.Len()))
			return
		}
		if total == "*" && (b-a+1)%(256<<10) != 0 {
			gcsError(w, http.StatusBadRequest, "a chunk but the last must be a multiple of 256 KiB")
			return
		}
		g.puts++
		if g.failPut[g.puts] {
			// Half of it arrives, then the server fails.
			io.CopyN(held, r.Body, int64(b-a+1)/2)
			gcsError(w, http.StatusServiceUnavailable, "Backend Error")
			return
		}
		if n, _ := io.Copy(held, r.Body); n != int64(b-a+1) {
			gcsError(w, http.StatusBadRequest, "the body is not the range")
			return
		}
	}
	if total != "*" && strconv.Itoa(held.Len()) == total {
		data := held.Bytes()
		g.objects[name] = append([]byte(nil), data...)
		sum := md5.Sum(data)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"storage#object","name":%q,"bucket":"evidence","generation":"1700000000000001","size":"%d","md5Hash":%q}`,
			name, len(data), base64.StdEncoding.EncodeToString(sum[:]))
		return
	}
	if held.Len() > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", held.Len()-1))
	}
	w.WriteHeader(http.StatusPermanentRedirect)
}

// serviceAccountKey writes a service-account JSON key as the console
// makes it, for a key generated here, and returns its path.
func serviceAccountKey(t *testing.T, dir string, key *rsa.PrivateKey, tokenURI string) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "ir-lab", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "uploader@ir-lab.iam.gserviceaccount.com", "client_id": "1234", "token_uri": tokenURI,
	})
	p := filepath.Join(dir, "key-"+strconv.Itoa(key.N.BitLen())+"-"+hex.EncodeToString(key.N.Bytes()[:4])+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUploadGCS uploads a file of one chunk and one of three whose
// second chunk is cut off halfway by a 503: the bucket ends with the
// file's bytes, the result names it with the file's digests, and the
// token was asked for once per call.
func TestUploadGCS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	dir := t.TempDir()
	g := newGCSServer(t, &key.PublicKey, "uploader@ir-lab.iam.gserviceaccount.com")
	srv := newSinkServer(t, g)
	g.base = srv.url()
	srv.up()
	keyFile := serviceAccountKey(t, dir, key, srv.url()+"/token")
	cases := []struct {
		name    string
		size    int
		failPut map[int]bool
		retried bool
	}{
		{"one chunk", 1000, nil, false},
		{"three chunks, the second cut off", 18<<20 + 12345, map[int]bool{2: true}, true},
		{"empty", 0, nil, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			rand.Read(data)
			file := filepath.Join(dir, fmt.Sprintf("evidence-%d.bin", i))
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			g.mu.Lock()
			g.puts, g.failPut, g.tokens = 0, tc.failPut, 0
			g.mu.Unlock()
			object := fmt.Sprintf("cases/%d/Host evidence.zip", i)
			rows, logs := e.query(`LET key <= read_file(filename='` + keyFile + `')
				SELECT upload_gcs(file='` + file + `', accessor='auto', bucket='evidence', project='ir-lab', credentials=key,
				                  name='` + object + `', endpoint='` + srv.url() + `') AS Upload FROM scope()`)
			sha, sum := sha256.Sum256(data), md5.Sum(data)
			want := fmt.Sprintf(`{"Upload":{"Path":%q,"Size":%d,"StoredSize":%d,"sha256":"%x","md5":"%x","StoredName":"gs://evidence/%s","Accessor":"auto"}}`,
				object, tc.size, tc.size, sha, sum, object)
			if strings.Join(rows, " ") != want {
				t.Fatalf("rows:\n got %v\nwant %s\nlogs %v", rows, want, logs)
			}
			g.mu.Lock()
			stored, tokens := g.objects[object], g.tokens
			g.mu.Unlock()
			if !bytes.Equal(stored, data) || tokens != 1 {
				t.Errorf("the bucket holds %d bytes (want the file's %d), %d tokens asked", len(stored), len(data), tokens)
			}
			if retried := strings.Contains(strings.Join(logs, "\n"), "HTTP 503"); retried != tc.retried {
				t.Errorf("503 in the log: %v, want %v; logs %v", retried, tc.retried, logs)
			}
		})
	}
}

// TestUploadGCSRefusals: what cannot be uploaded returns NULL and says
// why: a bucket that does not exist, a key the token endpoint does not
// trust (not repeated: no retry fixes a key), a key that is not one, a
// session without FILESYSTEM_READ.
func TestUploadGCSRefusals(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	e := newEnv(t)
	dir := t.TempDir()
	g := newGCSServer(t, &key.PublicKey, "uploader@ir-lab.iam.gserviceaccount.com")
	srv := newSinkServer(t, g)
	g.base = srv.url()
	srv.up()
	good := serviceAccountKey(t, dir, key, srv.url()+"/token")
	untrusted := serviceAccountKey(t, dir, other, srv.url()+"/token")
	file := filepath.Join(dir, "f.bin")
	os.WriteFile(file, []byte("evidence"), 0o644)
	call := func(keyFile, bucket string) string {
		return `LET key <= read_file(filename='` + keyFile + `')
			SELECT upload_gcs(file='` + file + `', bucket='` + bucket + `', project='ir-lab', credentials=key, endpoint='` + srv.url() + `') AS Upload FROM scope()`
	}
	cases := []struct {
		id   vql.Identity
		text string
		want string
	}{
		{owner, call(good, "nope"), `upload_gcs: starting the upload: HTTP 404: {"error":{"code":404,"message":"The specified bucket does not exist."}}`},
		{owner, call(untrusted, "evidence"), "upload_gcs: starting the upload: getting a token: HTTP 400: invalid_grant: Invalid JWT Signature."},
		{owner, `SELECT upload_gcs(file='` + file + `', bucket='evidence', project='ir-lab', credentials='{"type":"service_account"}') AS Upload FROM scope()`, "upload_gcs: credentials: "},
		{owner, `SELECT upload_gcs(file='` + file + `', bucket='', project='ir-lab', credentials='{}') AS Upload FROM scope()`, "upload_gcs: bucket must not be empty"},
		{vql.Identity{Org: "root", Principal: "fwd", Role: "custom", Granted: []vql.Permission{vql.PermNetwork}}, call(good, "evidence"), "upload_gcs: permission denied: fwd (custom) lacks FILESYSTEM_READ"},
	}
	for _, tc := range cases {
		r := e.start(tc.id, tc.text)
		<-r.done
		rows, logs := r.stop()
		log := strings.Join(logs, "\n")
		if strings.Join(rows, " ") != `{"Upload":null}` || !strings.Contains(log, tc.want) || strings.Contains(log, "sending again") {
			t.Errorf("%s:\n rows %v\n logs %v\n want %q", tc.text, rows, logs, tc.want)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.objects) != 0 {
		t.Errorf("objects stored: %d", len(g.objects))
	}
}
