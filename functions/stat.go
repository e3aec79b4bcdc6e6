package functions

import (
	"errors"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// StatFn is stat() in an expression. Velociraptor has stat both as a
// plugin and as a function (vfilter keeps plugins and functions apart,
// and does not turn a plugin called in an expression into its rows), and
// artifacts use the function for one file's field, as in
// `stat(filename=P).IsDir`, `stat(…).Size > 100`.
var StatFn = needs(fn("stat", "The information glob() gives about one file (a link is described, not followed); NULL, with the reason logged, when it cannot be had.",
	[]vql.ArgSpec{
		arg("filename", vql.TypeAny, true, "The file (a path or a pathspec)."),
		arg("accessor", vql.TypeString, false, "How to reach the file: file or auto (the default; a host file), zip, data, …"),
	}, func(c call) any {
		acc := c.args.String("accessor", "")
		if c.args.Failed() {
			return nil
		}
		path, ok := accessors.PathValue(c.scope, "stat", "filename", c.args.Value("filename"))
		if !ok {
			return nil
		}
		info, err := accessors.Stat(c.ctx, c.scope, "stat", acc, path)
		if err != nil {
			if !errors.Is(err, accessors.ErrDenied) {
				c.scope.Errorf("stat: %v", err)
			}
			return nil
		}
		return info
	}), vql.PermFilesystemRead)
