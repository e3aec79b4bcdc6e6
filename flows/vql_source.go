package flows

import (
	"iter"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql"
)

// sourcePlugin is source() as Velociraptor's server artifacts call it:
// with flow_id it reads a flow's stored results, with hunt_id a hunt's,
// with client_id alone the events one client sent to a CLIENT_EVENT
// queue; with none of them it is the event queues' source() (queueSource)
// unchanged.
func (s *Service) sourcePlugin(queueSource vql.Plugin) vql.Plugin {
	inner := queueSource.Info()
	args := append([]vql.ArgSpec{}, inner.Args...)
	args = append(args,
		arg("source", vql.TypeString, false, "The source of the artifact (or give artifact as Artifact/Source)."),
		arg("client_id", vql.TypeString, false, "The client: with flow_id its flow's results; alone its events in a CLIENT_EVENT queue."),
		arg("flow_id", vql.TypeString, false, "Read this flow's stored results (needs client_id)."),
		arg("hunt_id", vql.TypeString, false, "Read the results of every flow of this hunt."),
	)
	doc := inner.Doc + " With flow_id (and client_id): that flow's results; with hunt_id: a hunt's; with client_id alone: that client's events of a CLIENT_EVENT artifact."
	return s.plugin("source", doc, inner.Permissions, args, func(c *call) iter.Seq[vql.Row] {
		artifact, src := c.args.String("artifact", ""), c.args.String("source", "")
		client, flow, hunt := c.args.String("client_id", ""), c.args.String("flow_id", ""), c.args.String("hunt_id", "")
		if c.args.Failed() {
			return none
		}
		if src != "" {
			artifact += "/" + src
		}
		switch {
		case flow != "":
			if client == "" {
				c.errorf("flow_id=%s: client_id: name the flow's client ('server' for a server flow)", flow)
				return none
			}
			return s.flowRows(c, client, flow, artifact)
		case hunt != "":
			return s.huntRows(c, hunt, artifact, "")
		}
		if client == "" && src == "" {
			return queueSource.Call(c.ctx, c.scope, c.args)
		}
		forward := ordereddict.NewDict().Set("artifact", artifact)
		for _, n := range []string{"start_time", "end_time"} {
			if c.args.Has(n) {
				forward.Set(n, c.args.Value(n))
			}
		}
		rows := queueSource.Call(c.ctx, c.scope, vql.NewArgs(c.scope, forward))
		if client == "" {
			return rows
		}
		name, _, _ := strings.Cut(artifact, "/")
		if a, ok := c.m.Repository().Get(c.org, name); ok && a.Type != artifacts.TypeClientEvent {
			c.errorf("client_id=%s without flow_id: %s is a %s artifact, whose results are in flows: give flow_id (see flows(client_id=))", client, name, a.Type)
			return none
		}
		return func(yield func(vql.Row) bool) {
			for r := range rows {
				d, ok := r.(*ordereddict.Dict)
				if !ok {
					continue
				}
				if id, _ := d.GetString("ClientId"); id != client {
					continue
				}
				if !yield(d) {
					return
				}
			}
		}
	})
}

// flowRows reads one source's results from a flow: the flow must be
// known; a source that gave no rows has none.
func (s *Service) flowRows(c *call, client, flow, artifact string) iter.Seq[vql.Row] {
	if _, err := s.Flow(c.m, c.org, client, flow); err != nil {
		c.errorf("%v", err)
		return none
	}
	store, ok := storeArg(c)
	if !ok {
		return none
	}
	rows, err := store.readRows(c.org, resultPath(client, flow, artifact))
	if err != nil {
		c.errorf("%v", err)
		return none
	}
	return func(yield func(vql.Row) bool) {
		for r := range rows {
			if c.ctx.Err() != nil || !yield(r) {
				return
			}
		}
	}
}
