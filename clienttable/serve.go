package clienttable

import (
	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/clientapi"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql/value"
)

// Served is the table as the server's client endpoints ask it
// (server.ClientTables): the client's assignment in the protocol's form,
// with the queues its rows may go to.
type Served struct {
	S *Service
	M *queues.Manager
}

// Table implements server.ClientTables.
func (v Served) Table(org string, labels []string) (clientapi.Table, []string, error) {
	a, err := v.S.For(org, labels)
	if err != nil {
		return clientapi.Table{}, nil, err
	}
	t := clientapi.Table{Version: a.Version, Artifacts: []clientapi.Artifact{}}
	var queueNames []string
	for _, as := range a.Artifacts {
		entry := clientapi.Artifact{Name: as.Artifact, Definitions: as.Definitions}
		if as.Parameters != nil {
			if b, err := value.EncodeJSON(as.Parameters); err == nil {
				entry.Parameters = b
			}
		}
		t.Artifacts = append(t.Artifacts, entry)
		if def, ok := v.M.Repository().Get(org, as.Artifact); ok {
			queueNames = append(queueNames, def.QueueNames()...)
		}
	}
	// Rows collected before an artifact left the table still come in.
	removed, err := v.S.RecentlyRemoved(org)
	if err != nil {
		return clientapi.Table{}, nil, err
	}
	for _, name := range removed {
		if def, ok := v.M.Repository().Get(org, name); ok && def.Type == artifacts.TypeClientEvent {
			queueNames = append(queueNames, def.QueueNames()...)
		}
	}
	return t, queueNames, nil
}

// Changed implements server.ClientTables.
func (v Served) Changed(org string) <-chan struct{} { return v.S.Changed(org) }

// Report implements server.ClientTables.
func (v Served) Report(org, clientID string, st []clientapi.Status) {
	out := make([]Status, len(st))
	for i, s := range st {
		out[i] = Status{Artifact: s.Artifact, State: s.State, Error: s.Error, Time: s.Time, Messages: s.Messages}
	}
	v.S.Report(org, clientID, out)
}
