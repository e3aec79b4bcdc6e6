package functions

import (
	"context"
	"errors"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/notebooks"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Notebook super-timelines, as Velociraptor's server artifacts reach them
// (Server.Utils.AddTimeline, TimesketchUpload, RemoveTimeline,
// DeleteNotebook). The model is package notebooks, in the data folder.

var notebookIDArg = arg("notebook_id", vql.TypeString, false, "The notebook (default: the NotebookId variable).")

// notebookID is the notebook_id argument, or the NotebookId variable as
// in Velociraptor's notebook cells.
func notebookID(c call, callee string) (string, bool) {
	id := c.args.String("notebook_id", "")
	if c.args.Failed() {
		return "", false
	}
	if id == "" {
		if v, ok := c.scope.Var(c.ctx, "NotebookId"); ok {
			id, _ = v.(string)
		}
	}
	if err := notebooks.CheckID("notebook_id", id); err != nil {
		c.scope.Errorf("%s: notebook_id: %v (or set NotebookId)", callee, err)
		return "", false
	}
	return id, true
}

func notebookStore(provider queues.Provider, scope *vql.Scope, callee string) *notebooks.Store {
	m := manager(provider, scope, callee)
	if m == nil {
		return nil
	}
	return notebooks.New(m.Storage())
}

func timelineAdd(provider queues.Provider) vql.FunctionFunc {
	return needs(fn("timeline_add", "Add the rows of query, keyed by their key column's time, as the child timeline name of super-timeline timeline in a notebook (made when missing); returns the super-timeline.",
		[]vql.ArgSpec{
			arg("timeline", vql.TypeString, true, "The super-timeline to add to; made when missing."),
			arg("name", vql.TypeString, true, "The child timeline's name; one of that name is replaced."),
			arg("query", vql.TypeQuery, true, "The rows of the timeline."),
			arg("key", vql.TypeString, true, "The column holding each row's time; rows without a time are left out."),
			arg("message_column", vql.TypeString, false, "The column read as each event's message (default Message)."),
			arg("ts_desc_column", vql.TypeString, false, "The column read as each event's time description (default Description)."),
			notebookIDArg,
		}, func(c call) any {
			super, name, key := c.args.String("timeline", ""), c.args.String("name", ""), c.args.String("key", "")
			msgCol, descCol := c.args.String("message_column", ""), c.args.String("ts_desc_column", "")
			rows, _ := c.args.Rows("query")
			if c.args.Failed() {
				return nil
			}
			nb, ok := notebookID(c, "timeline_add")
			if !ok {
				return nil
			}
			for _, a := range [][2]string{{"timeline", super}, {"name", name}, {"key", key}} {
				if err := notebooks.CheckID(a[0], a[1]); err != nil {
					c.scope.Errorf("timeline_add: %s: %v", a[0], err)
					return nil
				}
			}
			store := notebookStore(provider, c.scope, "timeline_add")
			if store == nil {
				return nil
			}
			next, stop := iter.Pull(rows)
			defer stop()
			skipped := 0
			events := func() (notebooks.Event, bool, error) {
				for {
					if err := c.ctx.Err(); err != nil {
						return notebooks.Event{}, false, err
					}
					r, ok := next()
					if !ok {
						return notebooks.Event{}, false, nil
					}
					row, ok := c.scope.Materialize(c.ctx, r).(*ordereddict.Dict)
					if !ok {
						skipped++
						continue
					}
					tv, ok := row.Get(key)
					if !ok || tv == nil {
						skipped++
						continue
					}
					ts, err := value.ToTime(tv)
					if err != nil {
						skipped++
						continue
					}
					return notebooks.Event{Time: ts.UTC(), Row: row}, true, nil
				}
			}
			st, err := store.AddTimeline(plugins.OrgOf(c.scope), nb, super, c.scope.Identity().Principal,
				notebooks.Timeline{ID: name, TimestampColumn: key, MessageColumn: msgCol, TimestampDescColumn: descCol}, events)
			if err != nil {
				c.scope.Errorf("timeline_add: %v", err)
				return nil
			}
			if skipped > 0 {
				c.scope.Log(vql.LevelWarn, "timeline_add: %d rows had no time in column %s and were left out", skipped, key)
			}
			return st.Dict()
		}), vql.PermReadResults)
}

func timelinePlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "timeline", Permissions: []vql.Permission{vql.PermReadResults},
			Doc: "The events of a notebook's super-timeline, merged in time order: Timestamp, Message, Description, the event's columns, _Source (its child timeline).",
			Args: []vql.ArgSpec{
				arg("timeline", vql.TypeString, true, "The super-timeline to read."),
				arg("components", vql.TypeList, false, "Only these child timelines."),
				arg("skip", vql.TypeList, false, "Leave out these child timelines."),
				arg("start", vql.TypeAny, false, "The first time to read (a timestamp, epoch or date text)."),
				notebookIDArg,
			}},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			c := call{ctx: ctx, scope: scope, args: args, fname: "timeline"}
			super := args.String("timeline", "")
			opts := notebooks.ReadOptions{Include: args.Strings("components"), Skip: args.Strings("skip")}
			if args.Failed() {
				return none
			}
			if v := args.Value("start"); v != nil {
				t, err := value.ToTime(v)
				if err != nil {
					scope.Errorf("timeline: start: %v", err)
					return none
				}
				opts.Start = t
			}
			nb, ok := notebookID(c, "timeline")
			if !ok {
				return none
			}
			return func(yield func(vql.Row) bool) {
				store := notebookStore(provider, scope, "timeline")
				if store == nil {
					return
				}
				err := store.Read(plugins.OrgOf(scope), nb, super, opts, func(row *ordereddict.Dict) bool {
					return ctx.Err() == nil && yield(row)
				})
				if err != nil {
					scope.Errorf("timeline: %v", err)
				}
			}
		},
	}
}

func timelinesPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "timelines", Permissions: []vql.Permission{vql.PermReadResults},
			Doc:  "The super-timelines of a notebook: {name, timelines: [{id, start_time, end_time, timestamp_column, message_column, timestamp_description_column, rows}]}.",
			Args: []vql.ArgSpec{notebookIDArg}},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			nb, ok := notebookID(call{ctx: ctx, scope: scope, args: args, fname: "timelines"}, "timelines")
			if !ok {
				return none
			}
			return func(yield func(vql.Row) bool) {
				store := notebookStore(provider, scope, "timelines")
				if store == nil {
					return
				}
				list, err := store.Timelines(plugins.OrgOf(scope), nb)
				if err != nil {
					scope.Errorf("timelines: %v", err)
					return
				}
				for _, st := range list {
					if !yield(st.Dict()) {
						return
					}
				}
			}
		},
	}
}

func timelineDelete(provider queues.Provider) vql.FunctionFunc {
	return needs(fn("timeline_delete", "Delete a child timeline of a notebook's super-timeline, or the whole super-timeline when no name is given; TRUE once deleted.",
		[]vql.ArgSpec{
			arg("timeline", vql.TypeString, true, "The super-timeline."),
			arg("name", vql.TypeString, false, "The child timeline to delete (default: the whole super-timeline)."),
			notebookIDArg,
		}, func(c call) any {
			super, name := c.args.String("timeline", ""), c.args.String("name", "")
			if c.args.Failed() {
				return nil
			}
			nb, ok := notebookID(c, "timeline_delete")
			if !ok {
				return nil
			}
			store := notebookStore(provider, c.scope, "timeline_delete")
			if store == nil {
				return nil
			}
			if err := store.DeleteTimeline(plugins.OrgOf(c.scope), nb, super, name); err != nil {
				c.scope.Errorf("timeline_delete: %v", err)
				return nil
			}
			return true
		}), vql.PermNotebookEditor)
}

// notebookDelete lists, and with really_do_it removes, a notebook and
// everything in it, as Velociraptor's does: a dry run by default.
func notebookDelete(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "notebook_delete", Permissions: []vql.Permission{vql.PermServerAdmin},
			Doc: "One row per thing a notebook holds {notebook_id, type, vfs_path, rows, really_do_it}; with really_do_it they are removed.",
			Args: []vql.ArgSpec{
				arg("notebook_id", vql.TypeString, true, "The notebook to delete."),
				arg("really_do_it", vql.TypeBool, false, "Remove it; otherwise only list what would go."),
			}},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			nb, really := args.String("notebook_id", ""), args.Bool("really_do_it", false)
			if args.Failed() {
				return none
			}
			if err := notebooks.CheckID("notebook_id", nb); err != nil {
				scope.Errorf("notebook_delete: notebook_id: %v", err)
				return none
			}
			return func(yield func(vql.Row) bool) {
				store := notebookStore(provider, scope, "notebook_delete")
				if store == nil {
					return
				}
				org := plugins.OrgOf(scope)
				items, err := store.Items(org, nb)
				if err != nil {
					if errors.Is(err, notebooks.ErrNotFound) {
						scope.Errorf("notebook_delete: notebook %s is not known in this org", nb)
					} else {
						scope.Errorf("notebook_delete: %v", err)
					}
					return
				}
				// Removed before the rows are given, so that a reader
				// stopping early does not leave the notebook half there.
				if really {
					if err := store.Delete(org, nb); err != nil {
						scope.Errorf("notebook_delete: %v", err)
						return
					}
				}
				for _, it := range items {
					row := ordereddict.NewDict().Set("notebook_id", nb).Set("type", it.Type).Set("vfs_path", it.Path)
					if it.Type == "Filestore" {
						row.Set("rows", it.Rows)
					}
					if !yield(row.Set("really_do_it", really)) {
						return
					}
				}
			}
		},
	}
}

// none is the rows of a call that cannot run.
func none(func(vql.Row) bool) {}
