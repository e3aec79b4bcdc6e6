package fleet_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vqlq/vqlq/fleet"
	"github.com/vqlq/vqlq/internal/queuetest"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// fixture is three clients of root and one of org acme, with labels.
var fixture = []fleet.Client{
	{ClientID: "C.0000000000000001", Hostname: "web01", FQDN: "web01.corp.example", System: "linux", Release: "6.8", Machine: "amd64",
		AgentName: "vqlq", AgentVersion: "0.9", FirstSeen: t0, LastSeen: t0.Add(time.Hour), LastIP: "10.0.0.1", Labels: []string{"Web", "prod"}},
	{ClientID: "C.0000000000000002", Hostname: "WEB02", FQDN: "web02.corp.example", System: "windows", LastIP: "10.0.0.2", Labels: []string{"web"}},
	{ClientID: "C.00000000000000ab", Hostname: "db01", FQDN: "db01.lab.example", System: "linux", LastIP: "192.168.1.5"},
}

func newRegistry(t *testing.T) (*queuetest.Instance, *fleet.Registry) {
	t.Helper()
	inst := queuetest.New(t, nil)
	reg := fleet.Of(inst.M)
	for _, c := range fixture {
		if err := reg.Put("root", c); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Put("acme", fleet.Client{ClientID: "C.00000000000000cc", Hostname: "web99", Labels: []string{"web"}}); err != nil {
		t.Fatal(err)
	}
	return inst, reg
}

func ids(cs []*fleet.Client) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ClientID)
	}
	return out
}

// TestRegistryRoundTrip: a record comes back as stored, after a restart
// too, and stays in its org; Enroll keeps first_seen and labels.
func TestRegistryRoundTrip(t *testing.T) {
	inst, reg := newRegistry(t)
	inst.Restart()
	reg = fleet.Of(inst.M)
	got, found, err := reg.Get("root", fixture[0].ClientID)
	if err != nil || !found {
		t.Fatalf("Get after restart: %v %v", found, err)
	}
	want := fixture[0]
	if got.Hostname != want.Hostname || got.FQDN != want.FQDN || got.System != want.System || !got.FirstSeen.Equal(want.FirstSeen) ||
		!got.LastSeen.Equal(want.LastSeen) || got.LastIP != want.LastIP || !slices.Equal(got.Labels, want.Labels) || got.Connected {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
	if ok, _ := reg.Exists("acme", fixture[0].ClientID); ok {
		t.Errorf("a root client exists in acme")
	}
	if ok, _ := reg.Exists("root", "C.00000000000000cc"); ok {
		t.Errorf("an acme client exists in root")
	}

	c, err := reg.Enroll("root", fleet.Client{ClientID: fixture[0].ClientID, Hostname: "web01-renamed", System: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.FirstSeen.Equal(t0) || !slices.Equal(c.Labels, fixture[0].Labels) || c.Hostname != "web01-renamed" || !c.LastSeen.After(t0.Add(time.Hour)) {
		t.Errorf("re-enroll: %+v", c)
	}
	fresh, err := reg.Enroll("root", fleet.Client{Hostname: "new"})
	if err != nil || fleet.CheckClientID(fresh.ClientID) != nil || fresh.FirstSeen.IsZero() {
		t.Fatalf("enroll of a new client: %+v %v", fresh, err)
	}

	reg.SetConnected("root", fresh.ClientID, true)
	if c, _, _ := reg.Get("root", fresh.ClientID); !c.Connected {
		t.Errorf("connected not shown")
	}
	inst.Restart()
	if c, _, _ := fleet.Of(inst.M).Get("root", fresh.ClientID); c.Connected {
		t.Errorf("connected survived a restart")
	}

	for _, bad := range []fleet.Client{{ClientID: "C.123"}, {ClientID: "X.0000000000000001"}, {ClientID: ""}} {
		if err := fleet.Of(inst.M).Put("root", bad); err == nil {
			t.Errorf("Put(%q) accepted", bad.ClientID)
		}
	}
	if err := fleet.Of(inst.M).Put("bad/org", fixture[0]); err == nil {
		t.Errorf("an invalid org was accepted")
	}
}

// TestSearch: each search form of clients(search=) finds what
// Velociraptor's search bar finds.
func TestSearch(t *testing.T) {
	_, reg := newRegistry(t)
	for _, tc := range []struct {
		search string
		want   []string
		err    string
	}{
		{"", []string{"C.0000000000000001", "C.0000000000000002", "C.00000000000000ab"}, ""},
		{"all", []string{"C.0000000000000001", "C.0000000000000002", "C.00000000000000ab"}, ""},
		{"label:web", []string{"C.0000000000000001", "C.0000000000000002"}, ""},
		{"label:PROD", []string{"C.0000000000000001"}, ""},
		{"label:none", []string{"C.00000000000000ab"}, ""},
		{"label:w*b", []string{"C.0000000000000001", "C.0000000000000002"}, ""},
		{"label:we", []string{"C.0000000000000001", "C.0000000000000002"}, ""}, // a prefix
		{"label:nosuch", []string{}, ""},
		{"host:web", []string{"C.0000000000000001", "C.0000000000000002"}, ""},
		{"host:*.lab.example", []string{"C.00000000000000ab"}, ""},
		{"host:web02", []string{"C.0000000000000002"}, ""},
		{"client:C.00000000000000a", []string{"C.00000000000000ab"}, ""},
		{"ip:10.0.0.", []string{"C.0000000000000001", "C.0000000000000002"}, ""},
		{"C.000000000000000", []string{"C.0000000000000001", "C.0000000000000002"}, ""},
		{"db", []string{"C.00000000000000ab"}, ""},
		{"mac:00:11", nil, "unknown operator"},
		{"label:", nil, "needs a value"},
	} {
		got, err := reg.List("root", tc.search)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("search %q: error %v, want one holding %q", tc.search, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Errorf("search %q: %v %v, want %v", tc.search, ids(got), err, tc.want)
		}
	}
}

// TestMatching: the hunt targeting the flows package asks for.
func TestMatching(t *testing.T) {
	_, reg := newRegistry(t)
	for _, tc := range []struct {
		include, exclude []string
		os               string
		want             []string
	}{
		{nil, nil, "", []string{"C.0000000000000001", "C.0000000000000002", "C.00000000000000ab"}},
		{[]string{"WEB"}, nil, "", []string{"C.0000000000000001", "C.0000000000000002"}},
		{[]string{"web"}, []string{"prod"}, "", []string{"C.0000000000000002"}},
		{nil, nil, "Linux", []string{"C.0000000000000001", "C.00000000000000ab"}},
		{[]string{"prod", "nosuch"}, nil, "windows", []string{}},
	} {
		got, err := reg.Matching("root", tc.include, tc.exclude, tc.os)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Matching(%v, %v, %q) = %v %v, want %v", tc.include, tc.exclude, tc.os, got, err, tc.want)
		}
	}
}

// TestLabels: set, add and remove labels, without case and without
// duplicates; an unknown client is an error.
func TestLabels(t *testing.T) {
	_, reg := newRegistry(t)
	id := fixture[2].ClientID
	for _, tc := range []struct {
		op     string
		labels []string
		want   []string
	}{
		{"add", []string{"a", "B", "A", " "}, []string{"a", "B"}},
		{"add", []string{"b", "c"}, []string{"a", "B", "c"}},
		{"remove", []string{"A", "nosuch"}, []string{"B", "c"}},
		{"set", []string{"x", "X", "y"}, []string{"x", "y"}},
		{"set", nil, nil},
	} {
		var c *fleet.Client
		var err error
		switch tc.op {
		case "add":
			c, err = reg.AddLabels("root", id, tc.labels)
		case "remove":
			c, err = reg.RemoveLabels("root", id, tc.labels)
		case "set":
			c, err = reg.SetLabels("root", id, tc.labels)
		}
		if err != nil || !slices.Equal(c.Labels, tc.want) {
			t.Fatalf("%s %v: %v %v, want %v", tc.op, tc.labels, c, err, tc.want)
		}
		if stored, _, _ := reg.Get("root", id); !slices.Equal(stored.Labels, tc.want) {
			t.Fatalf("%s %v: stored %v, want %v", tc.op, tc.labels, stored.Labels, tc.want)
		}
	}
	if _, err := reg.AddLabels("root", "C.ffffffffffffffff", []string{"x"}); err == nil || !strings.Contains(err.Error(), "no such client") {
		t.Errorf("labelling an unknown client: %v", err)
	}
}

// TestDeleteAndKill: a kill request waits until taken; deleting a client
// removes its record and its pending request.
func TestDeleteAndKill(t *testing.T) {
	inst, reg := newRegistry(t)
	id := fixture[0].ClientID
	if _, err := reg.RequestKill("root", "C.ffffffffffffffff", "ops"); err == nil {
		t.Errorf("a kill for an unknown client was accepted")
	}
	if _, err := reg.RequestKill("root", id, "ops"); err != nil {
		t.Fatal(err)
	}
	inst.Restart()
	reg = fleet.Of(inst.M)
	k, found, err := reg.TakeKill("root", id)
	if err != nil || !found || k.Principal != "ops" || k.ClientID != id {
		t.Fatalf("TakeKill after restart: %+v %v %v", k, found, err)
	}
	if _, found, _ := reg.TakeKill("root", id); found {
		t.Errorf("a kill request was delivered twice")
	}
	_, _ = reg.RequestKill("root", id, "ops")
	if deleted, err := reg.Delete("root", id); !deleted || err != nil {
		t.Fatalf("Delete: %v %v", deleted, err)
	}
	if ok, _ := reg.Exists("root", id); ok {
		t.Errorf("deleted client still exists")
	}
	if _, found, _ := reg.TakeKill("root", id); found {
		t.Errorf("the deleted client's kill request stayed")
	}
	if deleted, err := reg.Delete("root", id); deleted || err != nil {
		t.Errorf("second Delete: %v %v", deleted, err)
	}
}
