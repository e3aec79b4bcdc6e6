// Package vqlq is the embedding entry point: NewEngine returns a VQL engine
// with every built-in plugin and function registered, ready for a host
// program to add its own.
package vqlq

import (
	"github.com/vqlq/vqlq/functions"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/vql"
)

// NewEngine returns an engine with the built-in plugins and functions.
func NewEngine() *vql.Engine {
	e := vql.NewEngine()
	plugins.Register(e)
	functions.Register(e)
	return e
}
