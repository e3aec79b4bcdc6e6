package artifacts

import (
	"reflect"
	"testing"
)

func TestArtifactQueues(t *testing.T) {
	sources := []Source{{Query: "q"}, {Name: "Named", Query: "q"}, {Name: "Other", Query: "q"}}
	tests := []struct {
		typ       Type
		event     bool
		persisted bool
		queues    []string
	}{
		{TypeClient, false, false, nil},
		{TypeServer, false, false, nil},
		{TypeClientEvent, true, true, []string{"Custom.A", "Custom.A/Named", "Custom.A/Other"}},
		{TypeServerEvent, true, true, []string{"Custom.A", "Custom.A/Named", "Custom.A/Other"}},
		{TypeInternal, true, false, []string{"Custom.A", "Custom.A/Named", "Custom.A/Other"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ), func(t *testing.T) {
			a := &Artifact{Name: "Custom.A", Type: tc.typ, Sources: sources}
			if got := a.IsEvent(); got != tc.event {
				t.Errorf("IsEvent() = %v, want %v", got, tc.event)
			}
			if got := a.Persisted(); got != tc.persisted {
				t.Errorf("Persisted() = %v, want %v", got, tc.persisted)
			}
			if got := a.QueueNames(); !reflect.DeepEqual(got, tc.queues) {
				t.Errorf("QueueNames() = %q, want %q", got, tc.queues)
			}
		})
	}
	noSources := &Artifact{Name: "Server.Internal.X", Type: TypeInternal}
	if got := noSources.QueueNames(); !reflect.DeepEqual(got, []string{"Server.Internal.X"}) {
		t.Errorf("without sources: QueueNames() = %q", got)
	}
}
