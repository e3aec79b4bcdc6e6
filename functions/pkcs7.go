package functions

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// PKCS#7 (RFC 2315) signed data, as Authenticode signatures and .p7b
// files carry it. Go's standard library reads X.509 but not PKCS#7, and
// only the envelope is needed here, so it is decoded with encoding/asn1.
type pkcs7ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type pkcs7SignedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	ContentInfo      pkcs7ContentInfo
	Certificates     asn1.RawValue     `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue     `asn1:"optional,tag:1"`
	SignerInfos      []pkcs7SignerInfo `asn1:"set"`
}

type pkcs7SignerInfo struct {
	Version          int
	IssuerAndSerial  pkcs7IssuerAndSerial
	DigestAlgorithm  pkix.AlgorithmIdentifier
	AuthAttributes   asn1.RawValue `asn1:"optional,tag:0"`
	DigestEncryption pkix.AlgorithmIdentifier
	EncryptedDigest  []byte
	UnauthAttributes asn1.RawValue `asn1:"optional,tag:1"`
}

type pkcs7IssuerAndSerial struct {
	Issuer       asn1.RawValue
	SerialNumber *big.Int
}

var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// ParsePKCS7 reads PKCS#7 signed data: its certificates and signers.
var ParsePKCS7 = fn("parse_pkcs7", "The certificates and signers of PKCS#7 signed data (DER bytes or a PEM block).",
	[]vql.ArgSpec{arg("data", vql.TypeString, true, "The PKCS#7 data (DER, or PEM text).")},
	func(c call) any {
		data := []byte(c.args.String("data", ""))
		if c.args.Failed() {
			return nil
		}
		if block, _ := pem.Decode(data); block != nil {
			data = block.Bytes
		}
		d, err := decodePKCS7(data)
		if err != nil {
			c.scope.Errorf("parse_pkcs7: %v", err)
			return nil
		}
		return d
	})

func decodePKCS7(der []byte) (*ordereddict.Dict, error) {
	var ci pkcs7ContentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("content type %v is not signed data", ci.ContentType)
	}
	var sd pkcs7SignedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("signed data: %w", err)
	}
	certs := []any{}
	if len(sd.Certificates.Bytes) > 0 {
		parsed, err := x509.ParseCertificates(sd.Certificates.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		for _, cert := range parsed {
			certs = append(certs, certDict(cert))
		}
	}
	signers := []any{}
	for _, si := range sd.SignerInfos {
		var issuer pkix.RDNSequence
		if _, err := asn1.Unmarshal(si.IssuerAndSerial.Issuer.FullBytes, &issuer); err != nil {
			return nil, fmt.Errorf("signer issuer: %w", err)
		}
		var name pkix.Name
		name.FillFromRDNSequence(&issuer)
		signers = append(signers, ordereddict.NewDict().
			Set("Issuer", name.String()).
			Set("SerialNumber", si.IssuerAndSerial.SerialNumber.String()).
			Set("DigestAlgorithm", si.DigestAlgorithm.Algorithm.String()))
	}
	return ordereddict.NewDict().
		Set("Version", int64(sd.Version)).
		Set("ContentType", sd.ContentInfo.ContentType.String()).
		Set("Certificates", certs).
		Set("Signers", signers), nil
}
