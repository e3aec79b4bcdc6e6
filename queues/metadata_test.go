package queues_test

import (
	"reflect"
	"testing"
)

// TestServerMetadata: server_set_metadata changes keys of an org's
// metadata, NULL deleting one; server_metadata reads it back, after a
// restart too; orgs do not see each other's.
func TestServerMetadata(t *testing.T) {
	e := newEnv(t, nil)
	steps := []struct {
		name, org, query string
		want             []string
	}{
		{"none set is an empty dict", "root", `SELECT server_metadata() AS m FROM scope()`, []string{`{"m":{}}`}},
		{"keyword arguments and a dict", "root", `SELECT server_set_metadata(SlackToken="x1", metadata=dict(URL="https://h", N=2)) AS m FROM scope()`,
			[]string{`{"m":{"SlackToken":"x1","URL":"https://h","N":2}}`}},
		{"a key is overwritten, NULL deletes one", "root", `SELECT server_set_metadata(SlackToken="x2", N=NULL) AS m FROM scope()`,
			[]string{`{"m":{"SlackToken":"x2","URL":"https://h"}}`}},
		{"another org has its own", "O1", `SELECT server_metadata() AS m, server_set_metadata(A=1) AS s FROM scope()`,
			[]string{`{"m":{},"s":{"A":1}}`}},
		{"members read as artifacts read them", "root", `SELECT server_metadata().SlackToken AS t FROM scope()`, []string{`{"t":"x2"}`}},
	}
	for _, s := range steps {
		rows, logs := e.run(s.org, s.query)
		if !reflect.DeepEqual(rows, s.want) || len(logs) != 0 {
			t.Errorf("%s: rows %v, logs %v; want %v", s.name, rows, logs, s.want)
		}
	}
	e.restart()
	if rows, _ := e.run("root", `SELECT server_metadata() AS m FROM scope()`); !reflect.DeepEqual(rows, []string{`{"m":{"SlackToken":"x2","URL":"https://h"}}`}) {
		t.Errorf("after a restart: %v", rows)
	}
}

func TestServerMetadataRefusals(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct{ query, log string }{
		{`SELECT server_set_metadata(metadata="x") AS m FROM scope()`, "ERROR:server_set_metadata: Field metadata should be a dict"},
	} {
		rows, logs := e.run("root", c.query)
		if !reflect.DeepEqual(rows, []string{`{"m":null}`}) || len(logs) != 1 || logs[0] != c.log {
			t.Errorf("%s: rows %v, logs %v; want the log %q", c.query, rows, logs, c.log)
		}
	}
}
