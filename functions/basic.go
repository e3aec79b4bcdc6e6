package functions

import (
	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Dict builds a dict from its keyword arguments, in order. It is VQL's
// only way to write a dict literal.
var Dict = vql.FunctionFunc{
	Meta: vql.Info{Name: "dict", Doc: "A dict of the keyword arguments: dict(a=1, b=2).", FreeArgs: true},
	Fn: func(ctx ctxT, scope *vql.Scope, a *vql.Args) any {
		d := ordereddict.NewDict()
		for _, n := range a.Names() {
			v, _ := a.Get(n)
			d.Set(n, v)
		}
		return d
	},
}

// If returns then or else; only the chosen branch is evaluated.
var If = fn("if", "then when condition is true, else otherwise; only the chosen branch is evaluated.",
	[]vql.ArgSpec{
		arg("condition", vql.TypeAny, true, "The truth value deciding the branch."),
		arg("then", vql.TypeLazy, false, "Result when true."),
		arg("else", vql.TypeLazy, false, "Result when false."),
	}, func(c call) any {
		cond, _ := c.args.Get("condition")
		branch := "else"
		if truthy(c, cond) {
			branch = "then"
		}
		v, _ := c.args.Get(branch)
		return v
	})

func truthy(c call, v any) bool {
	return value.Truthy(c.scope.Resolve(c.ctx, v))
}

// Scope returns the current scope as a dict-like value.
var Scope = fn("scope", "The current scope, readable like a dict (scope().X).", nil,
	func(c call) any { return c.scope.View(c.ctx) })

// Len is the length of a list, string, dict or query.
var Len = fn("len", "Number of elements of a list, bytes of a string, keys of a dict or rows of a query.",
	[]vql.ArgSpec{arg("list", vql.TypeAny, true, "The value to measure.")},
	func(c call) any {
		v := c.args.Value("list")
		switch t := v.(type) {
		case nil:
			return int64(0)
		case string:
			return int64(len(t))
		case *ordereddict.Dict:
			return int64(t.Len())
		}
		if l, ok := value.AsList(v); ok {
			return int64(len(l))
		}
		return int64(len(value.Keys(v)))
	})

// Array makes a list of its arguments in the order written, each one
// element — `array(a=[1,2], b=[3,4])` is [[1,2],[3,4]], a query its list
// of rows — except `_`, whose list or query rows are spliced in
// (`array(_=[1,2], c=3)` is [1,2,3]), as Velociraptor's array() does.
var Array = vql.FunctionFunc{
	Meta: vql.Info{Name: "array", Doc: "A list of the argument values in order; the elements of _ (a list or query) are spliced in.", FreeArgs: true},
	Fn: func(ctx ctxT, scope *vql.Scope, a *vql.Args) any {
		out := []any{}
		for _, n := range a.Names() {
			v := a.Value(n)
			if l, ok := value.AsList(v); ok && n == "_" {
				out = append(out, l...)
				continue
			}
			out = append(out, v)
		}
		return out
	},
}

// Get reads a member path such as 'a.0.b' (numbers index lists), or a
// single field, from item (default: the scope).
var Get = fn("get", "Read a member path ('a.0.b') or a field from item (default: the scope); default when absent.",
	[]vql.ArgSpec{
		arg("item", vql.TypeAny, false, "The value to read from (default: the scope)."),
		arg("member", vql.TypeString, false, "Dotted path; numeric parts index lists."),
		arg("field", vql.TypeAny, false, "A single key (may contain dots) or index."),
		arg("default", vql.TypeAny, false, "Returned when the path is absent."),
	}, func(c call) any {
		var item any = c.scope.View(c.ctx)
		if c.args.Has("item") {
			item = c.args.Value("item")
		}
		def, _ := c.args.Get("default")
		if c.args.Has("field") {
			v := value.Index(item, c.args.Value("field"))
			if v == nil {
				return def
			}
			return v
		}
		member := c.args.String("member", "")
		if c.args.Failed() {
			return nil
		}
		v, ok := getPath(c, item, member)
		if !ok {
			return def
		}
		return v
	})
