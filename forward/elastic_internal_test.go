package forward

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// TestCloudAddress: an Elastic Cloud id names its Elasticsearch endpoint
// as https://<elasticsearch-id>.<host>, with the port when it is not 443.
func TestCloudAddress(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct{ id, want, err string }{
		{"prod:" + enc("eu-west-1.aws.found.io$abc123$kib456"), "https://abc123.eu-west-1.aws.found.io", ""},
		{"prod:" + enc("eu-west-1.aws.found.io:9243$abc123$kib456"), "https://abc123.eu-west-1.aws.found.io:9243", ""},
		{"prod:" + enc("eu-west-1.aws.found.io:443$abc123"), "https://abc123.eu-west-1.aws.found.io", ""},
		{enc("host$es$kb"), "https://es.host", ""},
		{"prod:" + enc("no-dollar"), "", "want host$elasticsearch-id$kibana-id inside"},
		{"prod:%%%", "", "not name:base64: illegal base64 data at input byte 0"},
	}
	for _, tc := range cases {
		got, err := cloudAddress(tc.id)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("cloudAddress(%q) = %q, %v; want %q, %q", tc.id, got, err, tc.want, tc.err)
		}
	}
}

// TestBulkErrorText: a bulk item's error is "type: reason" whether it is
// an object (Elasticsearch, OpenSearch) or a bare string.
func TestBulkErrorText(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"type":"mapper_parsing_exception","reason":"failed to parse field [x]","caused_by":{"type":"x"}}`, "mapper_parsing_exception: failed to parse field [x]"},
		{`{"reason":"only a reason"}`, "only a reason"},
		{`"index_closed_exception"`, "index_closed_exception"},
		{`[1,2]`, "[1,2]"},
	}
	for _, tc := range cases {
		if got := bulkErrorText(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("bulkErrorText(%s) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
