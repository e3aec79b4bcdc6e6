package vqlq_test

import (
	"context"
	"testing"
	"time"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// FuzzQuery runs whatever parses, under a short deadline: the engine must
// never panic, whatever the program (functions and plugins recover on
// their own; operators, members and indexes must not need to).
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"SELECT 'abc'[-1], (1, 2)[1:], 7 % -1, -9223372036854775807 - 2 FROM scope()",
		"LET X(a) = X(a=a) SELECT X(a=1) FROM scope()",
		"SELECT * FROM foreach(row=(1, NULL, dict(a=1)), query={ SELECT _value.a FROM scope() })",
		"SELECT count() AS c FROM range(end=10) GROUP BY c % 3 ORDER BY c DESC LIMIT 2",
		"SELECT dict(a=1) + dict(b=2), 'x' * 2, NULL[1], scope().nope FROM scope()",
		"SELECT * FROM flatten(query={ SELECT (1, 2) AS a, [3, 4] AS b FROM scope() })",
		"SELECT parse_json(data='[1,{\"a\":2}]')[1].a, format(format='%d %s', args=1) FROM scope()",
		"SELECT timestamp(string='07/25/2019 5pm', timezone='UTC') < '2021-10-01', timestamp_format(time=1, format='RFC1123'), dict(a=1) =~ 'a', timestamp(epoch=0) =~ '1970', 'ab' * 3 FROM scope()",
	} {
		f.Add(s)
	}
	engine := vqlq.NewEngine()
	f.Fuzz(func(t *testing.T, text string) {
		prog, err := parser.Parse(text, "")
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		s := engine.NewSession(vql.SessionOptions{})
		n := 0
		for range s.Run(ctx, prog) {
			if n++; n > 10000 {
				break
			}
		}
	})
}
