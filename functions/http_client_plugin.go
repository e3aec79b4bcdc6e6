package functions

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// HTTPClientPlugin is http_client in FROM, the form Velociraptor has and
// its server artifacts use (`SELECT Content FROM http_client(url=…)`):
// the same request, arguments and permission as the function, its
// response as the one row.
var HTTPClientPlugin = vql.PluginFunc{
	Meta: vql.Info{Name: "http_client",
		Doc:         "Make an HTTP request; its one row is {Url, Method, Response, Content, Headers}, or Response 0 and the cause in Error when the request fails.",
		Args:        HTTPClient.Meta.Args,
		Permissions: HTTPClient.Meta.Permissions},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		size := args.Int("chunk_size", 0)
		return func(yield func(vql.Row) bool) {
			row, ok := HTTPClient.Fn(ctx, scope, args).(*ordereddict.Dict)
			if !ok {
				return
			}
			content, _ := row.Get("Content")
			text, _ := content.(string)
			if size <= 0 || int64(len(text)) <= size || args.Has("tempfile_extension") {
				yield(row)
				return
			}
			// Velociraptor's chunk_size: the body in pieces, a row each.
			for len(text) > 0 {
				n := min(int64(len(text)), size)
				if !yield(row.Copy().Set("Content", text[:n])) {
					return
				}
				text = text[n:]
			}
		}
	},
}

// Plugins are the plugins this package adds: host-facing ones that share
// a function's implementation.
func Plugins() []vql.Plugin { return []vql.Plugin{HTTPClientPlugin} }
