package flows

import (
	"testing"

	"github.com/vqlq/vqlq/internal/queuetest"
)

// TestFlowLeftRunningByAStoppedProcessIsAnError: a server flow recorded
// RUNNING that no process runs (its process stopped mid-flow) reads as
// ERROR with a status that says so, and is recorded that way; one this
// process runs stays RUNNING.
func TestFlowLeftRunningByAStoppedProcessIsAnError(t *testing.T) {
	inst := queuetest.New(t, nil)
	s := New(inst.Provider(), nil)
	for _, id := range []string{"F.LEFT", "F.LIVE"} {
		if err := putJSON(inst.M.Storage(), flowKey("root", ServerID, id), &Flow{ClientID: ServerID, SessionID: id, State: StateRunning}); err != nil {
			t.Fatal(err)
		}
	}
	recordsMu.Lock()
	running[runKey("root", ServerID, "F.LIVE")] = &runningFlow{cancel: func() {}}
	recordsMu.Unlock()
	t.Cleanup(func() {
		recordsMu.Lock()
		delete(running, runKey("root", ServerID, "F.LIVE"))
		recordsMu.Unlock()
	})

	list, err := s.Flows(inst.M, "root", ServerID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range list {
		got[f.SessionID] = f.State + "/" + f.Status
	}
	want := map[string]string{"F.LEFT": StateError + "/" + StoppedStatus, "F.LIVE": StateRunning + "/"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	var stored Flow
	if err := getJSON(inst.M.Storage(), flowKey("root", ServerID, "F.LEFT"), &stored); err != nil || stored.State != StateError {
		t.Errorf("stored record: %+v %v", stored, err)
	}
}
