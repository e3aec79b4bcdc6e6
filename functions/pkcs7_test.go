package functions_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// The test's own PKCS#7 encoder: a signed-data envelope holding one
// certificate and one signer, built independently of the decoder.
type p7Info struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"optional"`
}

type p7Signed struct {
	Version      int
	Digests      []pkix.AlgorithmIdentifier `asn1:"set"`
	Inner        p7Info
	Certificates asn1.RawValue
	Signers      []p7Signer `asn1:"set"`
}

type p7Signer struct {
	Version int
	Issuer  struct {
		Name   asn1.RawValue
		Serial *big.Int
	}
	Digest    pkix.AlgorithmIdentifier
	Algorithm pkix.AlgorithmIdentifier
	Signature []byte
}

func testPKCS7(t *testing.T) string {
	t.Helper()
	text, _ := testCert(t)
	block, _ := pem.Decode([]byte(text))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sha256 := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}
	signer := p7Signer{Version: 1, Digest: sha256, Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 101, 112}}, Signature: []byte{1, 2, 3}}
	signer.Issuer.Name = asn1.RawValue{FullBytes: cert.RawIssuer}
	signer.Issuer.Serial = cert.SerialNumber
	sd, err := asn1.Marshal(p7Signed{
		Version:      1,
		Digests:      []pkix.AlgorithmIdentifier{sha256},
		Inner:        p7Info{ContentType: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		Certificates: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: block.Bytes},
		Signers:      []p7Signer{signer},
	})
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(p7Info{ContentType: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2},
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func TestParsePKCS7(t *testing.T) {
	b64 := testPKCS7(t)
	vqltest.Run(t, []vqltest.Case{
		{"signed data", `LET P <= parse_pkcs7(data=base64decode(string="` + b64 + `")) SELECT P.Version AS v, P.ContentType AS ct, P.Certificates.Subject AS subjects, P.Signers AS signers FROM scope()`,
			`[{"v":1,"ct":"1.2.840.113549.1.7.1","subjects":["CN=example.org,O=Example"],"signers":[{"Issuer":"CN=example.org,O=Example","SerialNumber":"4242","DigestAlgorithm":"2.16.840.1.101.3.4.2.1"}]}]`, ""},
		{"not pkcs7", `SELECT parse_pkcs7(data="hello") AS p FROM scope()`, `[{"p":null}]`, "parse_pkcs7: asn1: structure error"},
	})
}
