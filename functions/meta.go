package functions

import (
	"crypto/rand"
	"fmt"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Version says whether the engine has a plugin or function. Velociraptor
// numbers its plugins' incompatible revisions; vqlq's are all at their
// first, so version() is 1 for everything the engine has and NULL for
// what it lacks — which is what artifacts test for.
var Version = fn("version", "1 when the engine has the named plugin, function or accessor, NULL when it does not.",
	[]vql.ArgSpec{
		arg("function", vql.TypeString, false, "A function name."),
		arg("plugin", vql.TypeString, false, "A plugin name."),
		arg("accessor", vql.TypeString, false, "An accessor name."),
	}, func(c call) any {
		fname, pname, aname := c.args.String("function", ""), c.args.String("plugin", ""), c.args.String("accessor", "")
		if c.args.Failed() {
			return nil
		}
		for _, a := range accessors.All() {
			if aname != "" && a.Name == aname {
				return int64(1)
			}
		}
		e := c.scope.Engine()
		if e == nil {
			return nil
		}
		if fname != "" && hasInfo(e.Functions(), fname) {
			return int64(1)
		}
		if pname != "" && hasInfo(e.Plugins(), pname) {
			return int64(1)
		}
		for _, a := range accessors.All() {
			if aname != "" && a.Name == aname {
				return int64(1)
			}
		}
		return nil
	})

func hasInfo(infos []vql.Info, name string) bool {
	for _, i := range infos {
		if i.Name == name {
			return true
		}
	}
	return false
}

// Typeof names a value's type the way vqlq's messages do (string, int,
// float, bool, list, dict, timestamp, null); Velociraptor prints Go type
// names instead.
var Typeof = fn("typeof", "The name of the value's type: string, int, float, bool, list, dict, timestamp or null.",
	[]vql.ArgSpec{arg("a", vql.TypeAny, true, "The value.")},
	func(c call) any { return value.TypeName(c.scope.Materialize(c.ctx, c.args.Value("a"))) })

// UUID is a random (version 4) UUID.
var UUID = fn("uuid", "A new random UUID (version 4).", nil,
	func(c call) any {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	})

// Eval calls a lambda: with args when given, otherwise with the scope, so
// `eval(func="x => x.Var")` reads a variable by name.
var Eval = fn("eval", "The result of the lambda func called with args (or, without args, with the scope).",
	[]vql.ArgSpec{
		arg("func", vql.TypeString, true, "The lambda (x => …)."),
		arg("args", vql.TypeAny, false, "The value passed to the lambda (default: the scope)."),
	}, func(c call) any {
		l, ok := lambdaArg(c, "func")
		if !ok {
			return nil
		}
		if c.args.Has("args") {
			return l.call(c, c.scope.Materialize(c.ctx, c.args.Value("args")))
		}
		return l.call(c, c.scope.View(c.ctx))
	})
