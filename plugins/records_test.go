package plugins_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestRecords(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"parse_lines", "SELECT Line FROM parse_lines(accessor='data', filename='one\\r\\ntwo\\n\\nthree')", `[{"Line":"one"},{"Line":"two"},{"Line":""},{"Line":"three"}]`, ""},
		{"parse_lines of several", "SELECT Line FROM parse_lines(accessor='data', filename=['a\\n', 'b'])", `[{"Line":"a"},{"Line":"b"}]`, ""},
		{"parse_lines from a pipe", `LET P = pipe(query={SELECT _value FROM range(end=2)}) SELECT Line FROM parse_lines(accessor="pipe", filename="P")`, `[{"Line":"0"},{"Line":"1"}]`, ""},
		{"parse_csv with a header", "SELECT * FROM parse_csv(accessor='data', filename='Name,Size\\na.exe,10\\n\"b, c\",20\\n')", `[{"Name":"a.exe","Size":"10"},{"Name":"b, c","Size":"20"}]`, ""},
		{"parse_csv columns and extras", "SELECT * FROM parse_csv(accessor='data', filename='#comment\\n1,2,3\\n', comment='#', columns=['Foo', 'Bar'])", `[{"Foo":"1","Bar":"2","Col2":"3"}]`, ""},
		{"parse_csv auto headers and separator", "SELECT * FROM parse_csv(accessor='data', filename='x y\\n', auto_headers=TRUE, separator=' ')", `[{"Col0":"x","Col1":"y"}]`, ""},
		{"parse_csv bad separator", "SELECT * FROM parse_csv(accessor='data', filename='a', separator='ab')", `[]`, `parse_csv: separator must be one character`},
		{"split_records", "SELECT * FROM split_records(accessor='data', filenames='ssh-rsa AAAA key1\\n\\nssh-ed25519  BBBB key2', regex=' +', columns=['Type', 'PublicKey', 'KeyName'])",
			`[{"Type":"ssh-rsa","PublicKey":"AAAA","KeyName":"key1"},{"Type":"ssh-ed25519","PublicKey":"BBBB","KeyName":"key2"}]`, ""},
		{"split_records headers, count and extra fields", "SELECT * FROM split_records(accessor='data', filenames='a\\tb\\n1\\t2\\t3\\t4', regex='\\t', first_row_is_headers=TRUE, count=3)",
			`[{"a":"1","b":"2","Col2":"3\t4"}]`, ""},
		{"split_records of a host file needs FILESYSTEM_READ", "SELECT * FROM split_records(filenames='/proc/net/tcp', regex=' +')", `[]`, `split_records: permission denied: this session lacks FILESYSTEM_READ`},
	})
}

func TestQuery(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"text with env", `SELECT * FROM query(query="LET Y = X * 2 SELECT Y, Z FROM scope()", env=dict(X=21, Z="z"))`, `[{"Y":42,"Z":"z"}]`, ""},
		{"a stored query", `LET Q = SELECT X FROM scope() SELECT * FROM query(query=Q, env=dict(X=1))`, `[{"X":1}]`, ""},
		{"a parse error", `SELECT * FROM query(query="SELECT FROM")`, `[]`, "query: "},
		{"exit stops before the row it is true for", `SELECT * FROM query(query={SELECT _value AS V FROM range(end=100)}, exit="x=>x.V >= 3")`, `[{"V":0},{"V":1},{"V":2}]`, ""},
		{"exit on text", `SELECT * FROM query(query="SELECT _value AS V FROM range(end=5)", exit="x=>x.V = 1")`, `[{"V":0}]`, ""},
		{"exit that is no lambda", `SELECT * FROM query(query="SELECT 1 AS V FROM scope()", exit="x.V")`, `[]`, "query: exit: lambda"},
		{"timeout ends an endless query", `SELECT * FROM query(query={SELECT 'tick' AS T FROM clock(period=100)}, timeout=0.2)`, `[{"T":"tick"}]`, ""},
		{"a timeout out of range", `SELECT * FROM query(query="SELECT 1 AS V FROM scope()", timeout=1e300)`, `[]`, "query: timeout: 1e+300 seconds is out of range"},
		{"copy_env", `LET X = 5 SELECT * FROM query(query="SELECT X, Y FROM scope()", copy_env=["X"], env=dict(Y=1))`, `[{"X":5,"Y":1}]`, ""},
		{"org_id of the session's own org", `SELECT * FROM query(query="SELECT 1 AS V FROM scope()", org_id="root")`, `[{"V":1}]`, ""},
	})
}
