package functions

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// ParseX509 reads certificates: PEM text (every CERTIFICATE block) or
// DER bytes. Each becomes a dict of the fields artifacts look at.
var ParseX509 = fn("parse_x509", "A list of the certificates in data (PEM blocks or DER bytes), each a dict of its main fields.",
	[]vql.ArgSpec{arg("data", vql.TypeString, true, "PEM text or DER bytes.")},
	func(c call) any {
		data := c.args.String("data", "")
		if c.args.Failed() {
			return nil
		}
		var ders [][]byte
		rest := []byte(data)
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type == "CERTIFICATE" {
				ders = append(ders, block.Bytes)
			}
		}
		if len(ders) == 0 {
			ders = [][]byte{[]byte(data)}
		}
		out := []any{}
		for _, der := range ders {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				c.scope.Errorf("parse_x509: %v", err)
				return nil
			}
			out = append(out, certDict(cert))
		}
		return out
	})

func certDict(cert *x509.Certificate) *ordereddict.Dict {
	sha1Sum, sha256Sum := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	var usage []any
	for bit, name := range []string{"DigitalSignature", "ContentCommitment", "KeyEncipherment", "DataEncipherment", "KeyAgreement", "CertSign", "CRLSign", "EncipherOnly", "DecipherOnly"} {
		if cert.KeyUsage&(1<<bit) != 0 {
			usage = append(usage, name)
		}
	}
	ips := make([]string, len(cert.IPAddresses))
	for i, ip := range cert.IPAddresses {
		ips[i] = ip.String()
	}
	return ordereddict.NewDict().
		Set("Version", int64(cert.Version)).
		Set("SerialNumber", cert.SerialNumber.String()).
		Set("SignatureAlgorithm", cert.SignatureAlgorithm.String()).
		Set("Subject", cert.Subject.String()).
		Set("Issuer", cert.Issuer.String()).
		Set("NotBefore", cert.NotBefore.UTC()).
		Set("NotAfter", cert.NotAfter.UTC()).
		Set("PublicKeyAlgorithm", cert.PublicKeyAlgorithm.String()).
		Set("IsCA", cert.IsCA).
		Set("KeyUsage", nonNil(usage)).
		Set("DNSNames", toAnyList(cert.DNSNames)).
		Set("IPAddresses", toAnyList(ips)).
		Set("EmailAddresses", toAnyList(cert.EmailAddresses)).
		Set("SHA1", strings.ToUpper(hex.EncodeToString(sha1Sum[:]))).
		Set("SHA256", strings.ToUpper(hex.EncodeToString(sha256Sum[:])))
}

func nonNil(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}
