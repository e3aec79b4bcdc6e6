package functions

import (
	"context"

	"github.com/vqlq/vqlq/vql"
)

type ctxT = context.Context

// call bundles what a function body needs.
type call struct {
	ctx   context.Context
	scope *vql.Scope
	args  *vql.Args
	fname string
}

// name is the called function's name, for its messages.
func (c call) name() string { return c.fname }
