package functions

import (
	"os"
	"regexp"

	"github.com/vqlq/vqlq/vql"
)

// windowsVar is a %NAME% reference.
var windowsVar = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_()]*)%`)

// Expand replaces environment variables in a path, in both the forms
// artifacts write them: Windows' %SystemRoot% and the shell's $HOME or
// ${HOME}. A %NAME% that is not set is kept as written, as Windows does;
// an unset $NAME is empty, as a shell does.
var Expand = fn("expand", "The path with its environment variables (%VAR%, $VAR, ${VAR}) replaced.",
	[]vql.ArgSpec{arg("path", vql.TypeString, true, "The text to expand.")},
	func(c call) any {
		path := c.args.String("path", "")
		if c.args.Failed() {
			return nil
		}
		return windowsVar.ReplaceAllStringFunc(os.ExpandEnv(path), func(m string) string {
			if v, ok := os.LookupEnv(m[1 : len(m)-1]); ok {
				return v
			}
			return m
		})
	})
