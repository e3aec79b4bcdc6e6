package vql

import "github.com/vqlq/vqlq/vql/value"

// UseVfilterCore gives the engine's operators vfilter's core semantics,
// without the protocols Velociraptor registers on top (see
// value.Operators): for checking vqlq against vfilter's own corpus.
func (e *Engine) UseVfilterCore() { e.vfilterCore.Store(true) }

// operators are the engine's operator semantics.
func (e *Engine) operators() value.Operators {
	return value.Operators{VfilterCore: e.vfilterCore.Load()}
}
