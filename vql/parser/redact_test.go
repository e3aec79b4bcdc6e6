package parser

import (
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql/ast"
)

// TestRedacted checks that secret-looking arguments and dict fields lose
// their values, and that everything else prints as the canonical form.
func TestRedacted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT * FROM http_client(url='x', headers=dict(Authorization='Bearer SECRET'))",
			"SELECT * FROM http_client(url='x', headers=dict(Authorization='***'))"},
		{"SELECT http_client(url='x', password='hunter2', Method='GET') FROM scope()",
			"SELECT http_client(url='x', password='***', Method='GET') FROM scope()"},
		// Every field of a secret dict is hidden, its names are kept.
		{"SELECT * FROM x(HEADERS=dict(Accept='json', `X-Api-Key`=\"k\"))",
			"SELECT * FROM x(HEADERS=dict(Accept='***', `X-Api-Key`='***'))"},
		// Fields with secret names inside other dicts, deep in a query.
		{"SELECT * FROM foreach(row={ SELECT upload(data=dict(user='bob', ApiKey='abc', nested=dict(client_secret=Sec))) FROM scope() }) WHERE x.token = 'T'",
			"SELECT * FROM foreach(row={ SELECT upload(data=dict(user='bob', ApiKey='***', nested=dict(client_secret='***'))) FROM scope() }) WHERE x.token = 'T'"},
		{"SELECT * FROM x(passwd=1, key=2, api_key=3, credentials=4, secret_value=5, accesstoken=6, keyword=7)",
			"SELECT * FROM x(passwd='***', key='***', api_key='***', credentials='***', secret_value='***', accesstoken='***', keyword=7)"},
		{"SELECT * FROM x(headers=Headers, auth=[1, 2], a=f(token=concat(a='x')))",
			"SELECT * FROM x(headers='***', auth='***', a=f(token='***'))"},
		{"LET F(user, password='pw') = SELECT * FROM login(user=user, password=password)",
			"LET F(user, password='***') = SELECT * FROM login(user=user, password='***')"},
		{"LET H <= dict(Authorization='Bearer X')", "LET H <= dict(Authorization='***')"},
		{"SELECT a, b AS c FROM scope() WHERE a > 1 GROUP BY a ORDER BY b DESC LIMIT 2",
			"SELECT a, b AS c FROM scope() WHERE a > 1 GROUP BY a ORDER BY b DESC LIMIT 2 "},
	}
	for _, tt := range tests {
		prog, err := Parse(tt.in, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		before := prog.String()
		if got := ast.Redacted(prog); got != tt.want {
			t.Errorf("Redacted(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		if prog.String() != before {
			t.Errorf("Redacted changed the tree of %s", tt.in)
		}
		if got := Redacted(tt.in); got != tt.want {
			t.Errorf("parser.Redacted(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		// The redacted text is VQL too.
		if _, err := Parse(tt.want, ""); err != nil {
			t.Errorf("redacted text does not parse: %s: %v", tt.want, err)
		}
	}
	if got := Redacted("SELECT * FROM x(password='hunter2'"); strings.Contains(got, "hunter2") {
		t.Errorf("text that does not parse is shown: %s", got)
	}
	// The canonical text of a statement reads back to itself, so redacting
	// QueryText() loses nothing but the secrets.
	q := "SELECT * FROM watch_monitoring(artifact='Server.Events.Receive') WHERE a  AND b LIMIT 1 "
	if got := Redacted(q); got != q {
		t.Errorf("canonical text changed: %q", got)
	}
}

func TestSecretName(t *testing.T) {
	for _, n := range []string{"headers", "Headers", "password", "PASSWD", "token", "Token", "secret", "key", "apikey",
		"api_key", "Authorization", "credentials", "client_secret", "my_password", "access_token", "`password`"} {
		if !ast.SecretName(n) {
			t.Errorf("%s is not a secret name", n)
		}
	}
	for _, n := range []string{"url", "artifact", "query", "name", "keyword", "monkey", "Accept", "method", "data", "author"} {
		if ast.SecretName(n) {
			t.Errorf("%s is a secret name", n)
		}
	}
}
