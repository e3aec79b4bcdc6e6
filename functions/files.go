package functions

import (
	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// ReadFile reads data through an accessor. vqlq's accessors touch no
// host files (data, scope, pipe); reading the disk comes with the host
// vocabulary.
var ReadFile = fn("read_file", "The data filename holds, read through accessor (data, scope or pipe), from offset for up to length bytes.",
	[]vql.ArgSpec{
		arg("filename", vql.TypeString, true, "What to read: the data itself, a variable name, or a pipe's variable name."),
		accessorArg,
		arg("offset", vql.TypeInt, false, "First byte (default 0)."),
		arg("length", vql.TypeInt, false, "Most bytes returned (default: all, up to 64 MiB)."),
	}, func(c call) any {
		offset, length := c.args.Int("offset", 0), c.args.Int("length", -1)
		b, ok := accessors.ReadArg(c.ctx, c.scope, c.args, "read_file", "filename")
		if !ok {
			return nil
		}
		offset = max(0, min(offset, int64(len(b))))
		b = b[offset:]
		if length >= 0 && length < int64(len(b)) {
			b = b[:length]
		}
		return string(b)
	})

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
