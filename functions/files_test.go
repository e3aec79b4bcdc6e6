package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestAccessorReads(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"pipe", `LET MyPipe = pipe(query={SELECT _value FROM range(start=0, end=10, step=1)}, sep="\n") SELECT read_file(filename="MyPipe", accessor="pipe") AS t FROM scope()`,
			`[{"t":"0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n"}]`, ""},
		{"pipe of strings and rows", `LET P = pipe(query={SELECT format(format="line %d", args=_value) AS Line FROM range(end=2)}, sep=";") LET Q = pipe(query={SELECT 1 AS a, "x" AS b FROM scope()}) SELECT read_file(filename="P", accessor="pipe") AS p, read_file(filename="Q", accessor="pipe") AS q FROM scope()`,
			`[{"p":"line 0;line 1;","q":"{\"a\":1,\"b\":\"x\"}\n"}]`, ""},
		{"scope accessor", `LET Text = "a,b" SELECT read_file(filename="Text", accessor="scope") AS t, read_file(filename="abcdef", accessor="data", offset=2, length=3) AS d FROM scope()`,
			`[{"t":"a,b","d":"cde"}]`, ""},
		{"pipe accessor on a non-pipe", `LET X = 1 SELECT read_file(filename="X", accessor="pipe") AS t FROM scope()`, `[{"t":null}]`, `read_file: filename: pipe accessor: variable "X" holds int, not a pipe()`},
		{"scope accessor on a missing variable", `SELECT read_file(filename="Nope", accessor="scope") AS t FROM scope()`, `[{"t":null}]`, `scope accessor: no variable named "Nope"`},
		{"host files need FILESYSTEM_READ", `SELECT read_file(filename="/etc/passwd") AS t FROM scope()`, `[{"t":null}]`, `read_file: permission denied: this session lacks FILESYSTEM_READ`},
		{"parse_jsonl from a pipe", `LET P = pipe(query={SELECT serialize(item=dict(n=_value)) AS L FROM range(end=2)}) SELECT * FROM parse_jsonl(filename="P", accessor="pipe")`, `[{"n":0},{"n":1}]`, ""},
	})
}

func TestHash(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"all digests", `SELECT hash(path="hello", accessor="data") AS h FROM scope()`,
			`[{"h":{"MD5":"5d41402abc4b2a76b9719d911017c592","SHA1":"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d","SHA256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}]`, ""},
		{"hashselect", `SELECT hash(path="", accessor="data", hashselect="md5") AS h FROM scope()`, `[{"h":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"}}]`, ""},
		{"hashselect of nothing known", `SELECT hash(path="x", accessor="data", hashselect="crc") AS h FROM scope()`, `[{"h":null}]`, "hash: hashselect"},
		{"hashing a host file needs FILESYSTEM_READ", `SELECT hash(path="/bin/ls") AS h FROM scope()`, `[{"h":null}]`, `hash: permission denied: this session lacks FILESYSTEM_READ`},
	})
}
