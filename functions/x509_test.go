package functions_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// testCert makes a self-signed CA certificate for example.org.
func testCert(t *testing.T) (pemText string, sha string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(4242),
		Subject:               pkix.Name{CommonName: "example.org", Organization: []string{"Example"}},
		NotBefore:             time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		NotAfter:              time.Date(2034, 1, 2, 3, 4, 5, 0, time.UTC),
		DNSNames:              []string{"example.org", "www.example.org"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), strings.ToUpper(hex.EncodeToString(sum[:]))
}

func TestParseX509(t *testing.T) {
	text, sha := testCert(t)
	b64 := base64.StdEncoding.EncodeToString([]byte(text))
	const fields = `SELECT C.Version AS v, C.SerialNumber AS sn, C.Subject AS s, C.Issuer AS i, C.NotBefore AS nb, C.NotAfter AS na, C.PublicKeyAlgorithm AS pk, C.IsCA AS ca, C.KeyUsage AS ku, C.DNSNames AS dns, C.SHA256 = "`
	want := `[{"v":3,"sn":"4242","s":"CN=example.org,O=Example","i":"CN=example.org,O=Example","nb":"2024-01-02T03:04:05Z","na":"2034-01-02T03:04:05Z","pk":"Ed25519","ca":true,"ku":["DigitalSignature","CertSign"],"dns":["example.org","www.example.org"],"sha":true}]`
	vqltest.Run(t, []vqltest.Case{
		{"pem", `LET C <= parse_x509(data=base64decode(string="` + b64 + `"))[0] ` + fields + sha + `" AS sha FROM scope()`, want, ""},
		{"two pem blocks", `SELECT len(list=parse_x509(data=base64decode(string="` + b64 + `") + base64decode(string="` + b64 + `"))) AS n FROM scope()`, `[{"n":2}]`, ""},
		{"not a certificate", `SELECT parse_x509(data="hello") AS c FROM scope()`, `[{"c":null}]`, "parse_x509: x509: malformed certificate"},
	})
}
