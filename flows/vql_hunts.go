package flows

import (
	"iter"
	"strings"
	"time"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// timeArg reads a time argument (epoch, RFC 3339, timestamp).
func timeArg(c *call, name string) (time.Time, bool) {
	v := c.args.Value(name)
	if v == nil {
		return time.Time{}, true
	}
	t, err := value.ToTime(c.scope.Materialize(c.ctx, v))
	if err != nil {
		c.errorf("%s: %v", name, err)
		return time.Time{}, false
	}
	return t, true
}

func (s *Service) huntFunction() vql.Function {
	return s.function("hunt", "Create a hunt of client artifacts (H.<id>) and, unless pause is set, schedule a flow on every client its conditions match; returns the hunt's record.",
		[]vql.Permission{vql.PermStartHunt},
		[]vql.ArgSpec{
			arg("description", vql.TypeString, false, "What the hunt is for."),
			arg("tags", vql.TypeList, false, "Tags of the hunt."),
			arg("artifacts", vql.TypeList, true, "The client artifacts to collect."),
			arg("expires", vql.TypeAny, false, "When it expires (default a week from now); a time in the past is refused."),
			arg("spec", vql.TypeDict, false, "Parameters by artifact: {Artifact: {Param: value}}."),
			arg("env", vql.TypeDict, false, "Parameters for every artifact."),
			arg("timeout", vql.TypeInt, false, "Seconds each flow may run."),
			arg("ops_per_sec", vql.TypeFloat, false, "Accepted for compatibility: no throttling."),
			arg("cpu_limit", vql.TypeFloat, false, "Accepted for compatibility: no throttling."),
			arg("iops_limit", vql.TypeFloat, false, "Accepted for compatibility: no throttling."),
			arg("max_rows", vql.TypeInt, false, "Stop each flow after this many rows."),
			arg("max_bytes", vql.TypeInt, false, "The most bytes each flow may upload."),
			arg("pause", vql.TypeBool, false, "Create the hunt paused: nothing is scheduled until it starts."),
			arg("include_labels", vql.TypeList, false, "Only clients with one of these labels."),
			arg("exclude_labels", vql.TypeList, false, "No client with one of these labels."),
			arg("os", vql.TypeString, false, "Only clients of this OS (windows, linux, darwin)."),
			arg("org_id", vql.TypeList, false, "Create the hunt in these orgs (others than the session's need SERVER_ADMIN in the root org)."),
		}, func(c *call) any {
			names := c.args.Strings("artifacts")
			expires, ok := timeArg(c, "expires")
			timeout, ok1 := uintArg(c, "timeout")
			maxRows, ok2 := uintArg(c, "max_rows")
			maxBytes, ok3 := uintArg(c, "max_bytes")
			hr := huntRequest{description: c.args.String("description", ""), tags: c.args.Strings("tags"), expires: expires,
				paused: c.args.Bool("pause", false), include: c.args.Strings("include_labels"),
				exclude: c.args.Strings("exclude_labels"), os: c.args.String("os", "")}
			orgs := c.args.Strings("org_id")
			if c.args.Failed() || !ok || !ok1 || !ok2 || !ok3 {
				return nil
			}
			params, names, ok := paramsArgs(c, names)
			if !ok {
				return nil
			}
			if len(orgs) == 0 {
				orgs = []string{c.org}
			}
			var first any
			for _, o := range orgs {
				scope, org, ok := orgScope(c, o)
				if !ok {
					return first
				}
				r := hr
				r.request = request{org: org, creator: principal(c.scope), artifacts: names, params: params,
					timeout: timeout, maxRows: maxRows, maxByte: maxBytes}
				h, err := s.createHunt(scope, c.m, r)
				if err != nil {
					c.errorf("%v", err)
					if h == nil {
						return first
					}
				}
				c.audit("hunt", "hunt_id", h.HuntID, "artifacts", names, "org_id", org)
				if first == nil {
					first = toDict(h)
				}
			}
			return first
		})
}

func (s *Service) huntsPlugin() vql.Plugin {
	return s.plugin("hunts", "The hunts of the org, newest first (or the one hunt_id names): hunt_id, hunt_description, create_time, expires, state, artifacts, start_request, stats.",
		[]vql.Permission{vql.PermReadResults},
		[]vql.ArgSpec{arg("hunt_id", vql.TypeString, false, "Only this hunt (an error when it is not known).")},
		func(c *call) iter.Seq[vql.Row] {
			id := c.args.String("hunt_id", "")
			if c.args.Failed() {
				return none
			}
			var list []*Hunt
			if id != "" {
				h, err := s.Hunt(c.m, c.org, id)
				if err != nil {
					c.errorf("%v", err)
					return none
				}
				list = []*Hunt{h}
			} else {
				var err error
				if list, err = s.Hunts(c.m, c.org); err != nil {
					c.errorf("%v", err)
					return none
				}
			}
			return recordRows(c.ctx, list)
		})
}

func (s *Service) huntFlowsPlugin() vql.Plugin {
	return s.plugin("hunt_flows", "The flows of a hunt, by client: {HuntId, ClientId, FlowId, Flow} (Flow is the flow's record).",
		[]vql.Permission{vql.PermReadResults},
		[]vql.ArgSpec{
			arg("hunt_id", vql.TypeString, true, "The hunt."),
			arg("start_row", vql.TypeInt, false, "Skip this many flows (paging)."),
			arg("limit", vql.TypeInt, false, "At most this many flows (paging)."),
			arg("basic_info", vql.TypeBool, false, "Only HuntId, ClientId and FlowId."),
		}, func(c *call) iter.Seq[vql.Row] {
			id := c.args.String("hunt_id", "")
			start, limit := c.args.Int("start_row", 0), c.args.Int("limit", -1)
			basic := c.args.Bool("basic_info", false)
			if c.args.Failed() {
				return none
			}
			if start < 0 {
				c.errorf("start_row: should not be negative (%d)", start)
				return none
			}
			if _, err := s.Hunt(c.m, c.org, id); err != nil {
				c.errorf("%v", err)
				return none
			}
			entries, err := s.huntEntries(c.m, c.org, id)
			if err != nil {
				c.errorf("%v", err)
				return none
			}
			return func(yield func(vql.Row) bool) {
				for i, e := range entries {
					if int64(i) < start {
						continue
					}
					if limit >= 0 && int64(i) >= start+limit {
						return
					}
					row := dictOf("HuntId", id, "ClientId", e.client, "FlowId", e.flow)
					if !basic {
						f, err := s.Flow(c.m, c.org, e.client, e.flow)
						if err != nil {
							continue // deleted since it was added
						}
						row.Set("Flow", toDict(f))
					}
					if c.ctx.Err() != nil || !yield(row) {
						return
					}
				}
			}
		})
}

func (s *Service) huntAdd() vql.Function {
	return s.function("hunt_add", "Add a client to a hunt, whatever its conditions: with flow_id that flow joins the hunt, without it a flow of the hunt is scheduled on the client. Returns {HuntId, ClientId, FlowId}.",
		[]vql.Permission{vql.PermStartHunt},
		[]vql.ArgSpec{
			arg("client_id", vql.TypeString, true, "The client."),
			arg("hunt_id", vql.TypeString, true, "The hunt."),
			arg("flow_id", vql.TypeString, false, "An existing flow of the client to add to the hunt."),
			arg("relaunch", vql.TypeBool, false, "Schedule again on a client the hunt has already."),
		}, func(c *call) any {
			client, hunt, flow := c.args.String("client_id", ""), c.args.String("hunt_id", ""), c.args.String("flow_id", "")
			relaunch := c.args.Bool("relaunch", false)
			if c.args.Failed() {
				return nil
			}
			id, err := s.addToHunt(c.scope, c.m, c.org, hunt, client, flow, relaunch)
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			c.audit("hunt_add", "hunt_id", hunt, "client_id", client, "flow_id", id)
			return dictOf("HuntId", hunt, "ClientId", client, "FlowId", id)
		})
}

func (s *Service) huntUpdate() vql.Function {
	return s.function("hunt_update", "Change a hunt: its state (start, stop, or state=RUNNING|PAUSED|STOPPED), description, expiry and tags; a paused hunt that starts is scheduled on the clients it matches. Returns the hunt's record.",
		[]vql.Permission{vql.PermStartHunt},
		[]vql.ArgSpec{
			arg("hunt_id", vql.TypeString, true, "The hunt."),
			arg("state", vql.TypeString, false, "RUNNING, PAUSED or STOPPED."),
			arg("stop", vql.TypeBool, false, "Stop the hunt (state STOPPED)."),
			arg("start", vql.TypeBool, false, "Start the hunt (state RUNNING)."),
			arg("description", vql.TypeString, false, "A new description."),
			arg("expires", vql.TypeAny, false, "A new expiry."),
			arg("add_labels", vql.TypeList, false, "Tags to add to the hunt."),
			arg("del_labels", vql.TypeList, false, "Tags to remove from the hunt."),
		}, func(c *call) any {
			id := c.args.String("hunt_id", "")
			state := strings.ToUpper(c.args.String("state", ""))
			expires, ok := timeArg(c, "expires")
			ch := huntChange{expires: expires, addTags: c.args.Strings("add_labels"), delTags: c.args.Strings("del_labels")}
			if c.args.Has("description") {
				d := c.args.String("description", "")
				ch.description = &d
			}
			if c.args.Failed() || !ok {
				return nil
			}
			switch {
			case c.args.Bool("stop", false):
				state = HuntStopped
			case c.args.Bool("start", false):
				state = HuntRunning
			}
			switch state {
			case "", HuntRunning, HuntPaused, HuntStopped:
			default:
				c.errorf("state: %q is not RUNNING, PAUSED or STOPPED", state)
				return nil
			}
			ch.state = state
			h, err := s.updateHunt(c.scope, c.m, c.org, id, ch)
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			c.audit("hunt_update", "hunt_id", id, "state", h.State)
			return toDict(h)
		})
}

func (s *Service) huntDeletePlugin() vql.Plugin {
	return s.plugin("hunt_delete", "Delete a hunt with its flows and their files; without really_do_it only list them. Rows as delete_flow's, with HuntId, ClientId, FlowId. Audited.",
		[]vql.Permission{vql.PermServerAdmin},
		[]vql.ArgSpec{
			arg("hunt_id", vql.TypeString, true, "The hunt."),
			arg("really_do_it", vql.TypeBool, false, "Delete; otherwise only list what would go."),
			arg("workers", vql.TypeInt, false, "Accepted for compatibility: flows are deleted one after the other."),
			arg("archive", vql.TypeBool, false, "Archiving is not supported: an error."),
		}, func(c *call) iter.Seq[vql.Row] {
			id := c.args.String("hunt_id", "")
			really := c.args.Bool("really_do_it", false)
			if c.args.Failed() {
				return none
			}
			if c.args.Bool("archive", false) {
				c.errorf("archive: archiving hunts is not supported; stop the hunt with hunt_update(stop=TRUE)")
				return none
			}
			store, err := fileStoreOf(c.scope)
			rows, err := s.deleteHunt(c.m, store, err == nil, c.org, id, really)
			if err != nil {
				c.errorf("%v", err)
				return none
			}
			if really {
				c.audit("hunt_delete", "hunt_id", id)
			}
			return yieldDicts(c, rows)
		})
}

func (s *Service) huntResultsPlugin() vql.Plugin {
	return s.plugin("hunt_results", "The rows of one artifact source from every flow of a hunt, each with ClientId and FlowId in front.",
		[]vql.Permission{vql.PermReadResults},
		[]vql.ArgSpec{
			arg("hunt_id", vql.TypeString, true, "The hunt."),
			arg("artifact", vql.TypeString, false, "The artifact (Name or Name/Source; default the hunt's first)."),
			arg("source", vql.TypeString, false, "The source of the artifact."),
			arg("brief", vql.TypeBool, false, "Accepted for compatibility: the rows are as stored."),
		}, func(c *call) iter.Seq[vql.Row] {
			id, artifact, src := c.args.String("hunt_id", ""), c.args.String("artifact", ""), c.args.String("source", "")
			if c.args.Failed() {
				return none
			}
			return s.huntRows(c, id, artifact, src)
		})
}

// huntRows reads one source's rows from every flow of a hunt.
func (s *Service) huntRows(c *call, id, artifact, src string) iter.Seq[vql.Row] {
	h, err := s.Hunt(c.m, c.org, id)
	if err != nil {
		c.errorf("%v", err)
		return none
	}
	if artifact == "" {
		if len(h.Artifacts) == 0 {
			c.errorf("artifact: hunt %s collects no artifact; name one", id)
			return none
		}
		artifact = h.Artifacts[0]
	}
	if src != "" {
		artifact += "/" + src
	}
	store, ok := storeArg(c)
	if !ok {
		return none
	}
	entries, err := s.huntEntries(c.m, c.org, id)
	if err != nil {
		c.errorf("%v", err)
		return none
	}
	return func(yield func(vql.Row) bool) {
		for _, e := range entries {
			rows, err := store.readRows(c.org, resultPath(e.client, e.flow, artifact))
			if err != nil {
				c.errorf("%v", err)
				return
			}
			for r := range rows {
				if c.ctx.Err() != nil || !yield(withFlow(r, e.client, e.flow)) {
					return
				}
			}
		}
	}
}

func (s *Service) createHuntDownload() vql.Function {
	return s.function("create_hunt_download", "Write a zip of a hunt's results (hunt_info.json, each flow under clients/, all flows' rows together under results/) in the file store; returns its file store path. The zip is complete when it returns.",
		[]vql.Permission{vql.PermPrepareResults},
		[]vql.ArgSpec{
			arg("hunt_id", vql.TypeString, true, "The hunt."),
			arg("only_combined", vql.TypeBool, false, "Only the combined results, not each flow."),
			arg("wait", vql.TypeBool, false, "Accepted for compatibility: the zip is always written before it returns."),
			arg("format", vql.TypeString, false, "json, csv or csv_only (default: JSON and CSV)."),
			arg("base", vql.TypeString, false, "A prefix of the zip's name."),
			arg("password", vql.TypeString, false, "Not supported: a password is an error."),
			arg("expand_sparse", vql.TypeBool, false, "Accepted for compatibility: the file store holds no sparse files."),
		}, func(c *call) any {
			id, base := c.args.String("hunt_id", ""), c.args.String("base", "")
			only := c.args.Bool("only_combined", false)
			format, ok := downloadArgs(c)
			if !ok {
				return nil
			}
			store, ok := storeArg(c)
			if !ok {
				return nil
			}
			path, err := s.huntDownload(c.m, store, c.org, id, base, only, format)
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			return path
		})
}
