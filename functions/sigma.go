package functions

import (
	"context"

	"github.com/vqlq/vqlq/vql"
)

// SigmaLogSources collects the queries a Sigma rule set reads, one per
// log source named "category/product/service" (parts may be "*"). The
// sigma() plugin, which runs rules over them, comes with the host
// vocabulary; the dict is what it takes.
var SigmaLogSources = vql.FunctionFunc{
	Meta: vql.Info{
		Name:     "sigma_log_sources",
		Doc:      "A dict of log source name (category/product/service) → the query that reads it, for sigma().",
		FreeArgs: true,
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
		return args.Dict()
	},
}
