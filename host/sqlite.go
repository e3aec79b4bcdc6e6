package host

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"path/filepath"

	"github.com/Velocidex/ordereddict"
	"modernc.org/sqlite"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// sqliteHeader is how every SQLite database file begins.
var sqliteHeader = []byte("SQLite format 3\x00")

// readOnlyDriver is the name the read-only SQLite driver is registered
// under: modernc.org/sqlite with an authorizer that lets a statement
// read and nothing else, on connections opened mode=ro and query_only.
const readOnlyDriver = "vqlq-sqlite-readonly"

func init() {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, _ string) error {
		a, ok := conn.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("the SQLite driver has no authorizer")
		}
		return a.RegisterAuthorizer(readOnly)
	})
	sql.Register(readOnlyDriver, d)
}

// reportingPragmas take an argument that names what to report on, never
// a value to set.
var reportingPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true,
	"index_info": true, "index_xinfo": true, "foreign_key_list": true, "integrity_check": true,
	"quick_check": true,
}

// readOnly allows what a query needs to read — SELECT, reading columns,
// functions, recursive CTEs, pragmas that only report — and denies the
// rest: writes, schema changes and ATTACH (which could create a file).
func readOnly(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthFunction, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthPragma:
		if arg2 == "" || reportingPragmas[arg1] {
			return sqlite.AuthorizerOK
		}
	}
	return sqlite.AuthorizerDeny
}

// SQLite runs a query on an SQLite database file, read-only, and yields
// its rows, a column per result column. The SQLite is modernc.org/sqlite,
// SQLite translated to Go: no cgo, so vqlq stays one static binary that
// cross-compiles (macOS from Linux) as before. A file that is not an
// SQLite database is refused before SQLite opens it (SQLite would take an
// empty file for a new database).
var SQLite = vql.PluginFunc{
	Meta: vql.Info{Name: "sqlite", Doc: "Runs query on the SQLite database file (read-only) and yields its rows.",
		Args: []vql.ArgSpec{
			{Name: "file", Type: vql.TypeAny, Required: true, Doc: "The database's path or pathspec."},
			{Name: "accessor", Type: vql.TypeString, Doc: "How to read it (default auto: the host's files, FILESYSTEM_READ; another accessor's file is copied to a temporary file first)."},
			{Name: "query", Type: vql.TypeString, Required: true, Doc: "The SQL to run (reading only)."},
			{Name: "args", Type: vql.TypeAny, Doc: "Values for the query's ? placeholders: a list, or one value; a dict names :placeholders."},
		},
		Permissions: perms(vql.PermFilesystemRead)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			query, acc := args.String("query", ""), args.String("accessor", "")
			params := sqlArgs(args.Value("args"))
			file := args.Value("file")
			if args.Failed() {
				return
			}
			path, ok := accessors.PathValue(scope, "sqlite", "file", file)
			if !ok {
				return
			}
			local, done, err := localFile(ctx, scope, acc, path)
			if err != nil {
				if !errors.Is(err, accessors.ErrDenied) {
					scope.Errorf("sqlite: %v", err)
				}
				return
			}
			defer done()
			name := accessors.PathString(path)
			if err := checkSQLite(local, name); err != nil {
				scope.Errorf("sqlite: %v", err)
				return
			}
			if err := sqliteRows(ctx, local, query, params, yield); err != nil {
				scope.Errorf("sqlite: %s: %v", name, err)
			}
		}
	},
}

// localFile is a host file holding the database path names: the file
// itself for a host accessor (file, auto), else a temporary copy of what
// the accessor reads (a database in a zip, say, up to 64 MiB), removed by
// done.
func localFile(ctx context.Context, scope *vql.Scope, acc string, path any) (string, func(), error) {
	a, err := accessors.Get(scope, "sqlite", acc)
	if err != nil {
		return "", nil, err
	}
	if (a.Name == "file" || a.Name == "auto") && !delegated(path) {
		return accessors.HostPath(path), func() {}, nil
	}
	r, err := a.Open(ctx, scope, path)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	tmp, err := os.CreateTemp("", "vqlq-sqlite-*.db")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, io.LimitReader(accessors.Reader(ctx, r), accessors.MaxParseBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > accessors.MaxParseBytes {
		err = fmt.Errorf("%s: %w: more than %d bytes", accessors.PathString(path), accessors.ErrTooLarge, accessors.MaxParseBytes)
	}
	if err != nil {
		done()
		return "", nil, err
	}
	return tmp.Name(), done, nil
}

// delegated reports a pathspec that auto reads through another accessor
// (pathspec(DelegateAccessor="zip", …)).
func delegated(path any) bool {
	p, ok := path.(*accessors.OSPath)
	return ok && p.DelegatePath != "" && p.DelegateAccessor != "" && p.DelegateAccessor != "file" && p.DelegateAccessor != "auto"
}

// checkSQLite says why file (named name in messages) is not an SQLite
// database it can read.
func checkSQLite(file, name string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	if !bytes.Equal(head[:n], sqliteHeader) {
		return fmt.Errorf("%s is not an SQLite database (it does not begin with %q)", name, sqliteHeader[:15])
	}
	return nil
}

// sqlArgs turns the args argument into query parameters.
func sqlArgs(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	case *ordereddict.Dict:
		out := []any{}
		for _, item := range t.Items() {
			out = append(out, sql.Named(item.Key, item.Value))
		}
		return out
	}
	return []any{v}
}

// sqliteRows opens file read-only and yields the query's rows as they
// are stepped; stopping (yield false, ctx) closes the statement.
func sqliteRows(ctx context.Context, file, query string, params []any, yield func(vql.Row) bool) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?mode=ro&_query_only=1"
	db, err := sql.Open(readOnlyDriver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query, params...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := ordereddict.NewDict()
		for i, c := range cols {
			row.Set(c, sqlValue(values[i]))
		}
		if !yield(row) {
			return nil
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return rows.Err()
}

// sqlValue is a column's value as VQL holds it: a blob is a string of its
// bytes, as Velociraptor gives it.
func sqlValue(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
