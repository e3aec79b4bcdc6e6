// Package vqlq is the embedding entry point: NewEngine returns a VQL engine
// with every built-in plugin and function registered (the host vocabulary
// of package host too), ready for a host program to add its own.
package vqlq

import (
	"github.com/vqlq/vqlq/clienttable"
	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/flows"
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
// the forwarders (elastic_upload, splunk_upload, webhook_upload,
// logscale_upload, adx_upload) and upload_gcs, the fleet's clients, users
// and orgs (clients, client_info, label, gui_users, org_create, …), the
// client event table (add_client_monitoring, get_client_monitoring,
// client_monitoring_logs, …), the
// flows and hunts (collect_client, flows, hunt, …, and source() over a
// flow's results) and the Artifact.X plugins, all bound to the manager
// the provider returns. The org a query works in is its session's
// (vql.Identity), so
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
	for _, p := range fleet.Plugins(manager) {
		e.AddPlugin(p)
	}
	for _, f := range append(functions.Queues(manager), forward.Functions()...) {
		e.AddFunction(f)
	}
	for _, f := range fleet.Functions(manager) {
		e.AddFunction(f)
	}
	for _, p := range clienttable.Plugins(manager) {
		e.AddPlugin(p)
	}
	for _, f := range clienttable.Functions(manager) {
		e.AddFunction(f)
	}
	fl := flows.New(manager, fleetClients{manager})
	for _, p := range fl.Plugins(plugins.SourcePlugin(manager)) {
		e.AddPlugin(p)
	}
	for _, f := range fl.Functions() {
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

// fleetClients is the fleet as the flows see it: the registry of the
// manager's data folder, opened with the manager, and the server, which
// is a client of every org for the collections it runs itself.
type fleetClients struct{ provider queues.Provider }

func (c fleetClients) Exists(org, id string) (bool, error) {
	if id == flows.ServerID {
		return true, nil
	}
	m, err := c.provider()
	if err != nil {
		return false, err
	}
	return fleet.Of(m).Exists(org, id)
}

func (c fleetClients) Matching(org string, include, exclude []string, os string) ([]string, error) {
	m, err := c.provider()
	if err != nil {
		return nil, err
	}
	return fleet.Of(m).Matching(org, include, exclude, os)
}
