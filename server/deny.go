package server

import (
	"context"

	"github.com/vqlq/vqlq/vql"
)

// changing lists the functions a reader's queries may not call: they send
// events, change artifacts or the monitoring table, or reach out.
var changing = []string{"send_event", "alert", "artifact_set", "artifact_delete", "collect",
	"add_server_monitoring", "rm_server_monitoring", "http_client"}

// DenyChanges replaces, in e, every function that changes state with one
// that refuses: the engine of a reader token's queries.
func DenyChanges(e *vql.Engine) {
	for _, info := range e.Functions() {
		for _, name := range changing {
			if info.Name != name {
				continue
			}
			denied := info
			denied.FreeArgs = true
			e.AddFunction(vql.FunctionFunc{Meta: denied, Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
				scope.Errorf("%s: permission denied: a reader token may not change anything", denied.Name)
				return nil
			}})
		}
	}
}
