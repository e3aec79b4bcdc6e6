package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// deleteEvents deletes a queue's stored events in a time range, as
// Server.Utils.DeleteEvents asks: without really_do_it it only says what
// it would delete. The deletion is audited by the manager.
func deleteEvents(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{
			Name: "delete_events",
			Doc:  "Delete the stored events of a SERVER_EVENT or CLIENT_EVENT queue sent in a time range (a dry run unless really_do_it); one row {Type, Data, Error}.",
			Args: []vql.ArgSpec{
				{Name: "artifact", Type: vql.TypeString, Required: true, Doc: "The queue (artifact name, or artifact/source)."},
				{Name: "client_id", Type: vql.TypeString, Doc: "'server' (or empty) for the queue's events; vqlq keeps no per-client queues yet."},
				{Name: "start_time", Type: vql.TypeAny, Doc: "Delete events sent at or after this time (default: the first)."},
				{Name: "end_time", Type: vql.TypeAny, Doc: "Delete events sent at or before this time (default: the last)."},
				{Name: "really_do_it", Type: vql.TypeBool, Doc: "Delete; without it, only report what would be deleted."},
			},
			Permissions: []vql.Permission{vql.PermDeleteResults},
		},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			name := args.String("artifact", "")
			client := args.String("client_id", "")
			really := args.Bool("really_do_it", false)
			if args.Failed() {
				return none
			}
			if name == "" {
				scope.Errorf("delete_events: artifact is empty: name the queue whose events to delete")
				return none
			}
			if client != "" && client != "server" {
				scope.Errorf("delete_events: client_id %q: vqlq keeps one queue for every client's events of an artifact; use client_id='server' (or none) to delete the queue's events", client)
				return none
			}
			start, ok := timeArg(scope, args, "delete_events", "start_time")
			if !ok {
				return none
			}
			end, ok := timeArg(scope, args, "delete_events", "end_time")
			if !ok {
				return none
			}
			return withManager(provider, scope, "delete_events", func(m *queues.Manager) iter.Seq[vql.Row] {
				return func(yield func(vql.Row) bool) {
					d, err := m.DeleteEvents(ctx, OrgOf(scope), name, start, end, SenderOf(scope).Principal, really)
					if err != nil && d.Count == 0 && !d.Done {
						scope.Errorf("%v", err)
						return
					}
					yield(deletionRow(d, err))
				}
			})
		},
	}
}

// deletionRow is Velociraptor's {Type, Data, Error} row; Data says which
// positions and times went (or would go).
func deletionRow(d queues.Deletion, err error) *ordereddict.Dict {
	data := ordereddict.NewDict().Set("Artifact", d.Queue).Set("Count", int64(d.Count)).
		Set("FirstSeq", d.FirstSeq).Set("LastSeq", d.LastSeq).Set("Deleted", d.Done)
	if d.Count > 0 {
		data.Set("StartTime", d.Start.UTC()).Set("EndTime", d.End.UTC())
	}
	row := ordereddict.NewDict().Set("Type", "events").Set("Data", data).Set("Error", nil)
	if err != nil {
		row.Set("Error", err.Error())
	}
	return row
}
