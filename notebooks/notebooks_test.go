package notebooks_test

import (
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/internal/queuetest"
	"github.com/vqlq/vqlq/notebooks"
)

// TestTimelineSurvivesRestart writes events before and after 1970 into a
// badger data folder, reopens it, and reads them back in time order.
func TestTimelineSurvivesRestart(t *testing.T) {
	inst := queuetest.New(t, nil)
	times := []time.Time{
		time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
		time.Date(2020, 5, 1, 0, 0, 0, 1, time.UTC),
	}
	i := 0
	next := func() (notebooks.Event, bool, error) {
		if i == len(times) {
			return notebooks.Event{}, false, nil
		}
		ev := notebooks.Event{Time: times[i], Row: ordereddict.NewDict().Set("N", int64(i))}
		i++
		return ev, true, nil
	}
	if _, err := notebooks.New(inst.M.Storage()).AddTimeline("o1", "NB", "S", "me", notebooks.Timeline{ID: "c"}, next); err != nil {
		t.Fatal(err)
	}
	inst.Restart()
	var got []int64
	err := notebooks.New(inst.M.Storage()).Read("o1", "NB", "S", notebooks.ReadOptions{}, func(row *ordereddict.Dict) bool {
		n, _ := row.GetInt64("N")
		got = append(got, n)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 0 || got[2] != 2 {
		t.Errorf("order after restart: %v, want [1 0 2]", got)
	}
}
