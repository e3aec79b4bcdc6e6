package functions

import (
	"io"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// ReadFile reads part of a file through an accessor. It seeks to offset
// when the file can (a host file) and reads at most length bytes, so a
// header of a large file costs only the header.
var ReadFile = fn("read_file", "The data of the file filename names, read through accessor, from offset for up to length bytes.",
	[]vql.ArgSpec{
		arg("filename", vql.TypeAny, true, "The file (a path or a pathspec); with accessor=\"data\" the data itself, with scope or pipe a variable's name."),
		accessorArg,
		arg("offset", vql.TypeInt, false, "First byte (default 0)."),
		arg("length", vql.TypeInt, false, "Most bytes returned (default: all, up to 64 MiB)."),
	}, func(c call) any {
		offset, length := c.args.Int("offset", 0), c.args.Int("length", -1)
		if c.args.Failed() {
			return nil
		}
		if length < 0 || length > accessors.MaxParseBytes {
			length = accessors.MaxParseBytes
		}
		r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "read_file", "filename")
		if !ok {
			return nil
		}
		defer r.Close()
		if err := skip(r, max(0, offset)); err != nil {
			c.scope.Errorf("read_file: %s: %v", accessors.PathString(c.args.Value("filename")), err)
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(accessors.Reader(c.ctx, r), length))
		if err != nil {
			c.scope.Errorf("read_file: %s: %v", accessors.PathString(c.args.Value("filename")), err)
			return nil
		}
		return string(b)
	})

// skip moves past the first n bytes: by seeking when r can, otherwise by
// reading them.
func skip(r io.Reader, n int64) error {
	if n == 0 {
		return nil
	}
	if s, ok := r.(io.Seeker); ok {
		_, err := s.Seek(n, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, r, n)
	if err == io.EOF {
		return nil
	}
	return err
}

// PipeFn makes a pipe: a query read as text through the pipe accessor.
var PipeFn = fn("pipe", "A pipe: reading its variable with accessor=\"pipe\" runs query and gives its rows as text, each followed by sep.",
	[]vql.ArgSpec{
		arg("query", vql.TypeQuery, true, "The rows to write: a single column's value, or the row as JSON."),
		arg("sep", vql.TypeString, false, "Written after each row (default a newline)."),
		arg("name", vql.TypeString, false, "Accepted for compatibility: the pipe is read by its variable's name."),
	}, func(c call) any {
		sep := c.args.String("sep", "\n")
		q, _ := c.args.Get("query")
		if c.args.Failed() {
			return nil
		}
		return &accessors.Pipe{Query: q, Sep: sep}
	})
