package functions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// QueuePlugins are the plugins of this package that need the manager.
func QueuePlugins(provider queues.Provider) []vql.Plugin {
	return []vql.Plugin{mailPlugin(provider)}
}

// Queues returns the functions that send to event queues and change the
// artifact repository. The manager is fetched on first use.
func Queues(provider queues.Provider) []vql.Function {
	return []vql.Function{
		needs(sendEvent(provider), vql.PermPublish),
		needs(alert(provider), vql.PermPublish),
		artifactSet(provider),
		artifactDelete(provider),
		needs(collect(provider), vql.PermCollectServer),
		needs(consumerDelete(provider), vql.PermReadResults),
		serverMetadata(provider),
		serverSetMetadata(provider),
		orgFunction(provider),
		whoami,
		mailFunction(provider),
	}
}

func manager(provider queues.Provider, scope *vql.Scope, name string) *queues.Manager {
	m, err := provider()
	if err != nil {
		scope.Errorf("%s: %v", name, err)
		return nil
	}
	return m
}

// consumerDelete forgets a named consumer. It needs only READ_RESULTS,
// like watching: a reader may delete the consumers it owns (reading them
// moves them anyway); another principal's only an admin may.
func consumerDelete(provider queues.Provider) vql.FunctionFunc {
	return fn("consumer_delete", "Delete a named consumer of a queue (its owner, or an admin); returns TRUE once deleted.",
		[]vql.ArgSpec{
			arg("artifact", vql.TypeString, true, "The queue (artifact name, or Artifact/Source)."),
			arg("name", vql.TypeString, true, "The consumer's name."),
		}, func(c call) any {
			queue := c.args.String("artifact", "")
			name := c.args.String("name", "")
			if c.args.Failed() {
				return nil
			}
			m := manager(provider, c.scope, "consumer_delete")
			if m == nil {
				return nil
			}
			if err := m.DeleteConsumer(plugins.OrgOf(c.scope), queue, name, plugins.SenderOf(c.scope).Principal, c.scope.Identity().All); err != nil {
				c.scope.Errorf("%v", err)
				return false
			}
			return true
		})
}

func sendEvent(provider queues.Provider) vql.FunctionFunc {
	return fn("send_event", "Send row to the SERVER_EVENT queue artifact; returns the row as stamped (_ts, _Source). The sends of a statement are pipelined: no row of the statement reaches its reader before the events sent so far are stored.",
		[]vql.ArgSpec{
			arg("artifact", vql.TypeString, true, "The SERVER_EVENT artifact (queue) to send to."),
			arg("row", vql.TypeDict, true, "The event: a dict."),
		}, func(c call) any {
			name := c.args.String("artifact", "")
			if c.args.Failed() {
				return nil
			}
			row := c.scope.Materialize(c.ctx, c.args.Value("row"))
			m := manager(provider, c.scope, "send_event")
			if m == nil {
				return nil
			}
			out, err := m.SendPipelined(c.ctx, plugins.OrgOf(c.scope), name, row, plugins.SenderOf(c.scope), queues.SendsOf(c.ctx))
			if err != nil {
				c.scope.Errorf("%v", err)
				return nil
			}
			return out
		})
}

func alert(provider queues.Provider) vql.FunctionFunc {
	return vql.FunctionFunc{
		Meta: vql.Info{
			Name:     "alert",
			Doc:      "Send an alert to Server.Internal.Alerts, at most once per dedup seconds per name; other arguments become event_data.",
			FreeArgs: true,
			Args: []vql.ArgSpec{
				arg("name", vql.TypeString, true, "The alert's name."),
				arg("dedup", vql.TypeInt, false, "Seconds in which a repeat is suppressed (default 7200; -1: never)."),
				arg("condition", vql.TypeAny, false, "Send only when true (default true)."),
			},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, a *vql.Args) any {
			name := a.String("name", "")
			dedup := a.Int("dedup", 0)
			if a.Failed() {
				return nil
			}
			if a.Has("condition") && !truthy(call{ctx: ctx, scope: scope, args: a, fname: "alert"}, a.Value("condition")) {
				return nil
			}
			data := ordereddict.NewDict()
			for _, k := range a.Names() {
				if k != "name" && k != "dedup" && k != "condition" {
					data.Set(k, scope.Materialize(ctx, a.Value(k)))
				}
			}
			artifact := ""
			if v, ok := scope.Var(ctx, queues.ArtifactVar); ok {
				artifact, _ = v.(string)
			}
			m := manager(provider, scope, "alert")
			if m == nil {
				return nil
			}
			window := time.Duration(dedup) * time.Second
			sent, ago, err := m.SendAlert(ctx, plugins.OrgOf(scope), queues.Alert{Name: name, Artifact: artifact, Dedup: window, EventData: data, Principal: plugins.SenderOf(scope).Principal})
			if err != nil {
				scope.Errorf("alert: %v", err)
				return nil
			}
			if !sent {
				if window == 0 {
					window = queues.DefaultAlertDedup
				}
				scope.Log(vql.LevelInfo, "alert %q suppressed: sent %ds ago, dedup window %ds", name, int(ago.Seconds()), int(window.Seconds()))
			}
			return sent
		},
	}
}

func artifactDelete(provider queues.Provider) vql.FunctionFunc {
	return fn("artifact_delete", "Remove an artifact added at run time; its queues close.",
		[]vql.ArgSpec{arg("name", vql.TypeString, true, "The artifact's name.")},
		func(c call) any {
			name := c.args.String("name", "")
			if c.args.Failed() {
				return nil
			}
			m := manager(provider, c.scope, "artifact_delete")
			if m == nil {
				return nil
			}
			old, _ := m.Repository().Get(plugins.OrgOf(c.scope), name)
			if !mayWrite(c.scope, "artifact_delete", old) {
				return nil
			}
			if err := m.DeleteArtifact(c.ctx, plugins.OrgOf(c.scope), name, plugins.SenderOf(c.scope).Principal); err != nil {
				c.scope.Errorf("artifact_delete: %v", err)
				return nil
			}
			return true
		})
}

// mayWrite refuses a change to an artifact the session may not write: as
// in Velociraptor, an artifact the server runs (SERVER, SERVER_EVENT, and
// vqlq's INTERNAL and NOTEBOOK) needs SERVER_ARTIFACT_WRITER, any other
// (or one whose definition does not parse, or is not there) ARTIFACT_WRITER.
func mayWrite(scope *vql.Scope, call string, a *artifacts.Artifact) bool {
	if a != nil && a.RunsOnServer() {
		return scope.Require(call, vql.PermServerArtifactWriter)
	}
	return scope.Require(call, vql.PermArtifactWriter)
}

// collect runs a CLIENT or SERVER artifact here, now, as a flow: it gets an
// id, its rows are returned, and System.Flow.Completion is sent when it
// ends.
func collect(provider queues.Provider) vql.FunctionFunc {
	return fn("collect", "Run a CLIENT or SERVER artifact as a flow; returns {FlowId, Artifact, TotalRows, State, Duration, Results} and sends System.Flow.Completion.",
		[]vql.ArgSpec{
			arg("artifact", vql.TypeString, true, "The artifact to collect."),
			arg("parameters", vql.TypeDict, false, "Its parameters, as a dict."),
		}, func(c call) any {
			name := c.args.String("artifact", "")
			if c.args.Failed() {
				return nil
			}
			var params *ordereddict.Dict
			if p, ok := c.scope.Materialize(c.ctx, c.args.Value("parameters")).(*ordereddict.Dict); ok {
				params = p
			}
			m := manager(provider, c.scope, "collect")
			if m == nil {
				return nil
			}
			org := plugins.OrgOf(c.scope)
			a, ok := m.Repository().Get(org, name)
			if !ok {
				c.scope.Errorf("collect: artifact %s not known%s", name, m.Repository().Missing(org, name))
				return nil
			}
			if a.Type != artifacts.TypeClient && a.Type != artifacts.TypeServer {
				c.scope.Errorf("collect: %s is a %s artifact; only CLIENT and SERVER artifacts are collected", name, a.Type)
				return nil
			}
			if !plugins.MayRun(c.scope, "collect(artifact="+name+")", a) {
				return nil
			}
			flowID := newFlowID()
			start := time.Now()
			results := []any{}
			state := "FINISHED"
			for row := range plugins.RunArtifact(c.ctx, c.scope, a, params) {
				results = append(results, row)
			}
			if c.ctx.Err() != nil {
				state = "CANCELLED"
			}
			completion := ordereddict.NewDict().Set("FlowId", flowID).Set("Artifact", name).
				Set("TotalRows", int64(len(results))).Set("State", state).
				Set("Duration", time.Since(start).Seconds())
			if _, err := m.Send(context.WithoutCancel(c.ctx), org, queues.FlowCompletionQueue, completion,
				queues.Sender{Principal: "server", Internal: true}); err != nil {
				c.scope.Errorf("collect: %v", err)
			}
			return completion.Copy().Set("Results", results)
		})
}

// orgFunction tells a query which org it runs in; it is read from the
// session, which no query can change.
func orgFunction(provider queues.Provider) vql.FunctionFunc {
	return fn("org", "The org this query runs in: {OrgId, Name}.", nil, func(c call) any {
		m, err := provider()
		if err != nil {
			m = nil // without a store the org has no name but its id
		}
		return plugins.OrgRow(m, plugins.OrgOf(c.scope))
	})
}

func newFlowID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "F." + hex.EncodeToString(b)
}
