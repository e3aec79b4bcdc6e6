package flows

import (
	"errors"
	"fmt"
	"iter"
	"os"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

func dictOf(kv ...any) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		d.Set(k, kv[i+1])
	}
	return d
}

// paramsArgs reads env= and spec= into each artifact's parameters: spec
// is {Artifact: {Param: value}}, env the same parameters for every
// artifact (spec wins where both name one).
func paramsArgs(c *call, names []string) (map[string]*ordereddict.Dict, []string, bool) {
	params := map[string]*ordereddict.Dict{}
	if v := c.args.Value("env"); v != nil {
		env, ok := c.scope.Materialize(c.ctx, v).(*ordereddict.Dict)
		if !ok {
			c.errorf("env: should be a dict of parameters, not %T", v)
			return nil, nil, false
		}
		for _, n := range names {
			params[n] = env.Copy()
		}
	}
	if v := c.args.Value("spec"); v != nil {
		spec, ok := c.scope.Materialize(c.ctx, v).(*ordereddict.Dict)
		if !ok {
			c.errorf("spec: should be a dict of artifact name to parameters, not %T", v)
			return nil, nil, false
		}
		for _, item := range spec.Items() {
			p, ok := item.Value.(*ordereddict.Dict)
			if !ok && item.Value != nil {
				c.errorf("spec: %s: should be a dict of parameters, not %T", item.Key, item.Value)
				return nil, nil, false
			}
			if len(names) == 0 || !contains(names, item.Key) {
				names = append(names, item.Key)
			}
			if p == nil {
				continue
			}
			if params[item.Key] == nil {
				params[item.Key] = ordereddict.NewDict()
			}
			for _, kv := range p.Items() {
				params[item.Key].Set(kv.Key, kv.Value)
			}
		}
	}
	return params, names, true
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// uintArg reads a non-negative integer argument.
func uintArg(c *call, name string) (uint64, bool) {
	n := c.args.Int(name, 0)
	if c.args.Failed() {
		return 0, false
	}
	if n < 0 {
		c.errorf("%s: should not be negative (%d)", name, n)
		return 0, false
	}
	return uint64(n), true
}

func (s *Service) collectClient() vql.Function {
	return s.function("collect_client",
		"Collect artifacts from a client, or with client_id='server' on the server now, in the background: returns {flow_id, request}. "+
			"Needs COLLECT_SERVER for the server, COLLECT_CLIENT for a client.",
		nil, []vql.ArgSpec{
			arg("client_id", vql.TypeString, true, "The client to collect from; 'server' runs server artifacts here."),
			arg("flow_id", vql.TypeString, false, "Add to this flow instead of starting one (not supported: an error)."),
			arg("artifacts", vql.TypeList, true, "The artifacts to collect."),
			arg("env", vql.TypeDict, false, "Parameters for every artifact."),
			arg("spec", vql.TypeDict, false, "Parameters by artifact: {Artifact: {Param: value}}."),
			arg("timeout", vql.TypeInt, false, "Seconds the collection may run (default 600)."),
			arg("ops_per_sec", vql.TypeFloat, false, "Accepted for compatibility: no throttling."),
			arg("cpu_limit", vql.TypeFloat, false, "Accepted for compatibility: no throttling."),
			arg("iops_limit", vql.TypeFloat, false, "Accepted for compatibility: no throttling."),
			arg("max_rows", vql.TypeInt, false, "Stop after this many rows."),
			arg("max_bytes", vql.TypeInt, false, "The most bytes the collection may upload."),
			arg("urgent", vql.TypeBool, false, "Ahead of the client's other collections."),
			arg("org_id", vql.TypeString, false, "Collect in this org (another org needs SERVER_ADMIN in the root org)."),
		}, func(c *call) any {
			client := c.args.String("client_id", "")
			names := c.args.Strings("artifacts")
			orgID := c.args.String("org_id", "")
			if c.args.String("flow_id", "") != "" {
				c.errorf("flow_id=: adding to an existing flow is not supported; collect into a new flow")
				return nil
			}
			timeout, ok1 := uintArg(c, "timeout")
			maxRows, ok2 := uintArg(c, "max_rows")
			maxBytes, ok3 := uintArg(c, "max_bytes")
			if c.args.Failed() || !ok1 || !ok2 || !ok3 {
				return nil
			}
			params, names, ok := paramsArgs(c, names)
			if !ok {
				return nil
			}
			if !c.scope.Require("collect_client", flowPermission(client)) {
				return nil
			}
			scope, org, ok := orgScope(c, orgID)
			if !ok {
				return nil
			}
			f, err := s.startFlow(scope, c.m, request{org: org, client: client, creator: principal(c.scope), artifacts: names,
				params: params, timeout: timeout, maxRows: maxRows, maxByte: maxBytes, urgent: c.args.Bool("urgent", false)})
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			c.audit("collect_client", "client_id", client, "flow_id", f.SessionID, "artifacts", names, "org_id", org)
			return dictOf("flow_id", f.SessionID, "request", toDict(f.Request))
		})
}

func (s *Service) getFlow() vql.Function {
	return s.function("get_flow", "The record of a flow: client_id, session_id, request, state, times, total_collected_rows, artifacts_with_results. "+
		"Needs COLLECT_SERVER for the server's flows, COLLECT_CLIENT for a client's.", nil,
		[]vql.ArgSpec{
			arg("client_id", vql.TypeString, true, "The client the flow collected from ('server' for the server)."),
			arg("flow_id", vql.TypeString, false, "The flow."),
		}, func(c *call) any {
			client, flow := c.args.String("client_id", ""), c.args.String("flow_id", "")
			if c.args.Failed() || !c.scope.Require("get_flow", flowPermission(client)) {
				return nil
			}
			if flow == "" {
				c.errorf("flow_id: name the flow to read")
				return nil
			}
			f, err := s.Flow(c.m, c.org, client, flow)
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			return toDict(f)
		})
}

func (s *Service) cancelFlow() vql.Function {
	return s.function("cancel_flow", "Cancel a flow: a running server flow stops, a client flow not yet done is marked cancelled. Returns {flow_id, cancelled}. "+
		"Needs COLLECT_SERVER for the server's flows, COLLECT_CLIENT for a client's.", nil,
		[]vql.ArgSpec{
			arg("client_id", vql.TypeString, true, "The client of the flow."),
			arg("flow_id", vql.TypeString, false, "The flow to cancel."),
		}, func(c *call) any {
			client, flow := c.args.String("client_id", ""), c.args.String("flow_id", "")
			if c.args.Failed() || !c.scope.Require("cancel_flow", flowPermission(client)) {
				return nil
			}
			if flow == "" {
				c.errorf("flow_id: name the flow to cancel")
				return nil
			}
			done, err := s.Cancel(c.m, c.org, client, flow, principal(c.scope))
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			if done {
				c.audit("cancel_flow", "client_id", client, "flow_id", flow)
			}
			return dictOf("flow_id", flow, "cancelled", done)
		})
}

func (s *Service) flowsPlugin() vql.Plugin {
	return s.plugin("flows", "The flows of a client, newest first: one row per flow record (client_id, session_id, request, state, create_time, active_time, artifacts_with_results, …).",
		[]vql.Permission{vql.PermReadResults},
		[]vql.ArgSpec{
			arg("client_id", vql.TypeString, true, "The client ('server' for the server's flows)."),
			arg("flow_id", vql.TypeString, false, "Only this flow (an error when it is not known)."),
		}, func(c *call) iter.Seq[vql.Row] {
			client, flow := c.args.String("client_id", ""), c.args.String("flow_id", "")
			if c.args.Failed() {
				return none
			}
			var list []*Flow
			if flow != "" {
				f, err := s.Flow(c.m, c.org, client, flow)
				if err != nil {
					c.errorf("%v", err)
					return none
				}
				list = []*Flow{f}
			} else {
				var err error
				if list, err = s.Flows(c.m, c.org, client); err != nil {
					c.errorf("%v", err)
					return none
				}
			}
			return recordRows(c.ctx, list)
		})
}

func (s *Service) deleteFlowPlugin() vql.Plugin {
	return s.plugin("delete_flow", "Delete a flow's record and result files; without really_do_it only list them. One row per item: {Type, Data: {VFSPath}, Error}. Audited.",
		[]vql.Permission{vql.PermDeleteResults},
		[]vql.ArgSpec{
			arg("flow_id", vql.TypeString, true, "The flow."),
			arg("client_id", vql.TypeString, true, "Its client ('server' for the server's)."),
			arg("really_do_it", vql.TypeBool, false, "Delete; otherwise only list what would go."),
			arg("sync", vql.TypeBool, false, "Accepted for compatibility: deleting is always done before the rows are returned."),
		}, func(c *call) iter.Seq[vql.Row] {
			client, flow := c.args.String("client_id", ""), c.args.String("flow_id", "")
			really := c.args.Bool("really_do_it", false)
			if c.args.Failed() {
				return none
			}
			store, err := fileStoreOf(c.scope)
			rows, err := s.DeleteFlow(c.m, store, err == nil, c.org, client, flow, really)
			if err != nil {
				c.errorf("%v", err)
				return none
			}
			if really {
				c.audit("delete_flow", "client_id", client, "flow_id", flow)
			}
			return yieldDicts(c, rows)
		})
}

func yieldDicts(c *call, rows []*ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		for _, r := range rows {
			if c.ctx.Err() != nil || !yield(r) {
				return
			}
		}
	}
}

// storeArg is the file store of the call's session, or logs why there is
// none.
func storeArg(c *call) (FileStore, bool) {
	store, err := fileStoreOf(c.scope)
	if err != nil {
		c.errorf("%v", err)
		return FileStore{}, false
	}
	return store, true
}

// downloadArgs reads what both downloads take alike.
func downloadArgs(c *call) (exportFormat, bool) {
	if pw := c.args.String("password", ""); pw != "" {
		c.errorf("password: encrypted zips are not supported; leave password empty")
		return exportFormat{}, false
	}
	format, err := parseFormat(c.args.String("format", ""))
	if err != nil {
		c.errorf("%v", err)
		return exportFormat{}, false
	}
	return format, !c.args.Failed()
}

func (s *Service) createFlowDownload() vql.Function {
	return s.function("create_flow_download", "Write a zip of a flow's results (collection_context.json, log.json, results/<Artifact>.json and .csv) in the file store; returns its file store path. The zip is complete when it returns.",
		[]vql.Permission{vql.PermPrepareResults},
		[]vql.ArgSpec{
			arg("client_id", vql.TypeString, true, "The flow's client."),
			arg("flow_id", vql.TypeString, true, "The flow."),
			arg("wait", vql.TypeBool, false, "Accepted for compatibility: the zip is always written before it returns."),
			arg("type", vql.TypeString, false, "Deprecated, ignored."),
			arg("template", vql.TypeString, false, "Deprecated, ignored."),
			arg("password", vql.TypeString, false, "Not supported: a password is an error."),
			arg("format", vql.TypeString, false, "json, csv or csv_only (default: JSON and CSV)."),
			arg("expand_sparse", vql.TypeBool, false, "Accepted for compatibility: the file store holds no sparse files."),
			arg("name", vql.TypeString, false, "The zip's name (default <client>-<flow>.zip)."),
		}, func(c *call) any {
			client, flow, name := c.args.String("client_id", ""), c.args.String("flow_id", ""), c.args.String("name", "")
			format, ok := downloadArgs(c)
			if !ok {
				return nil
			}
			store, ok := storeArg(c)
			if !ok {
				return nil
			}
			path, err := s.flowDownload(c.m, store, c.org, client, flow, name, format)
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			return path
		})
}

func (s *Service) fileStoreFunction() vql.Function {
	return s.function("file_store", "The file on disk behind a file store path (a list for a list of paths), for programs that open it themselves.",
		nil, []vql.ArgSpec{arg("path", vql.TypeAny, true, "A file store path, or a list of them.")},
		func(c *call) any {
			store, ok := storeArg(c)
			if !ok {
				return nil
			}
			v := c.scope.Materialize(c.ctx, c.args.Value("path"))
			if p, ok := v.(string); ok {
				real, err := store.Real(c.org, p)
				if err != nil {
					c.errorf("path: %v", err)
					return nil
				}
				return real
			}
			paths := c.args.Strings("path")
			if c.args.Failed() {
				return nil
			}
			out := make([]any, 0, len(paths))
			for _, p := range paths {
				real, err := store.Real(c.org, p)
				if err != nil {
					c.errorf("path: %v", err)
					return nil
				}
				out = append(out, real)
			}
			return out
		})
}

func (s *Service) fileStoreDelete() vql.Function {
	return s.function("file_store_delete", "Delete a file of the file store (never anything outside it); returns the path. Audited.",
		[]vql.Permission{vql.PermServerAdmin},
		[]vql.ArgSpec{arg("path", vql.TypeAny, true, "A file store path.")},
		func(c *call) any {
			store, ok := storeArg(c)
			if !ok {
				return nil
			}
			p := c.scope.Materialize(c.ctx, c.args.Value("path"))
			path, ok := p.(string)
			if !ok {
				path = fmt.Sprint(p)
			}
			real, err := store.Real(c.org, path)
			if err != nil {
				c.errorf("path: %v", err)
				return nil
			}
			info, err := os.Lstat(real)
			if err == nil && info.IsDir() {
				err = fmt.Errorf("%s is a folder; file_store_delete removes files", path)
			}
			if err == nil {
				err = os.Remove(real)
			}
			if errors.Is(err, os.ErrNotExist) {
				err = fmt.Errorf("%s is not in the file store", path)
			}
			if err != nil {
				c.errorf("%v", err)
				return nil
			}
			c.audit("file_store_delete", "path", path)
			return path
		})
}
