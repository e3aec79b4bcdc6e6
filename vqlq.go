// Package vqlq is the embedding entry point: NewEngine returns a VQL engine
// with every built-in plugin and function registered (the host vocabulary
// of package host too), ready for a host program to add its own.
package vqlq

import (
	"github.com/vqlq/vqlq/forward"
	"github.com/vqlq/vqlq/functions"
	"github.com/vqlq/vqlq/host"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// NewEngine returns an engine with the built-in plugins and functions.
func NewEngine() *vql.Engine {
	e := vql.NewEngine()
	plugins.Register(e)
	functions.Register(e)
	host.Register(e)
	return e
}

// NewQueueEngine returns NewEngine plus the event-queue plugins and
// functions (send_event, watch_monitoring, source, alert, artifact_set, …),
// the forwarders (elastic_upload, splunk_upload, webhook_upload)
// and the Artifact.X plugins, all bound to the manager the provider
// returns. The org a query works in is its session's (vql.Identity), so
// one engine serves every org. The command, the server and the tests
// build their engines with it.
func NewQueueEngine(manager queues.Provider) *vql.Engine {
	e := NewEngine()
	for _, p := range plugins.Queues(manager) {
		e.AddPlugin(p)
	}
	for _, p := range append(functions.QueuePlugins(manager), forward.Plugins(manager)...) {
		e.AddPlugin(p)
	}
	for _, f := range functions.Queues(manager) {
		e.AddFunction(f)
	}
	for _, f := range functions.ServerFunctions(manager) {
		e.AddFunction(f)
	}
	for _, p := range functions.ServerPlugins(manager) {
		e.AddPlugin(p)
	}
	e.AddResolver(plugins.ArtifactResolver(manager))
	e.SetVar("config", configVar())
	e.NoteVar("OrgId", "setting OrgId does not change the org: a query runs in its session's org (see org())")
	return e
}
