package host

import (
	"context"
	"iter"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/vqlq/vqlq/vql"
)

// Pslist lists processes with the columns of Velociraptor's pslist() on
// Linux and macOS: Pid, Name, Ppid, CommandLine, CreateTime, Times, Exe,
// Cwd, Username, MemoryInfo. gopsutil reads them from /proc (sysctl and
// libproc on macOS), one process at a time, so a LIMIT or a cancelled
// query stops the walk. A process that exits while it is read keeps the
// columns read so far; one that is gone before is skipped.
var Pslist = vql.PluginFunc{
	Meta: vql.Info{Name: "pslist", Doc: "The running processes: Pid, Name, Ppid, CommandLine, CreateTime, Times (user, system seconds), Exe, Cwd, Username, MemoryInfo (rss, vms, … bytes).",
		Args: []vql.ArgSpec{
			{Name: "pid", Type: vql.TypeInt, Doc: "Only the process with this pid."},
		},
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			pid := args.Int("pid", -1)
			if args.Failed() {
				return
			}
			var pids []int32
			if pid >= 0 {
				pids = []int32{int32(pid)}
			} else {
				var err error
				if pids, err = process.PidsWithContext(ctx); err != nil {
					scope.Errorf("pslist: %v", err)
					return
				}
			}
			for _, p := range pids {
				if ctx.Err() != nil {
					return
				}
				row, ok := processRow(ctx, p)
				if ok && !yield(row) {
					return
				}
			}
		}
	},
}

// processRow reads one process; ok is false when there is no such
// process.
func processRow(ctx context.Context, pid int32) (*ordereddict.Dict, bool) {
	p, err := process.NewProcessWithContext(ctx, pid)
	if err != nil {
		return nil, false
	}
	name, _ := p.NameWithContext(ctx)
	ppid, _ := p.PpidWithContext(ctx)
	cmdline, _ := p.CmdlineWithContext(ctx)
	var created any
	if ms, err := p.CreateTimeWithContext(ctx); err == nil {
		created = time.UnixMilli(ms).UTC()
	}
	exe, _ := p.ExeWithContext(ctx)
	cwd, _ := p.CwdWithContext(ctx)
	user, _ := p.UsernameWithContext(ctx)
	return ordereddict.NewDict().
		Set("Pid", int64(pid)).Set("Name", name).Set("Ppid", int64(ppid)).
		Set("CommandLine", cmdline).Set("CreateTime", created).
		Set("Times", processTimes(ctx, p)).Set("Exe", exe).Set("Cwd", cwd).
		Set("Username", user).Set("MemoryInfo", processMemory(ctx, p)), true
}

// processTimes is the CPU time the process used, in seconds, under the
// keys Velociraptor's Times has (user, system); NULL when unreadable.
func processTimes(ctx context.Context, p *process.Process) any {
	t, err := p.TimesWithContext(ctx)
	if err != nil {
		return nil
	}
	return ordereddict.NewDict().Set("user", t.User).Set("system", t.System)
}

// processMemory is the process's memory in bytes, under the keys of
// Velociraptor's MemoryInfo (rss, vms, …); NULL when unreadable.
func processMemory(ctx context.Context, p *process.Process) any {
	m, err := p.MemoryInfoWithContext(ctx)
	if err != nil {
		return nil
	}
	return ordereddict.NewDict().
		Set("rss", int64(m.RSS)).Set("vms", int64(m.VMS)).Set("hwm", int64(m.HWM)).
		Set("data", int64(m.Data)).Set("stack", int64(m.Stack)).Set("locked", int64(m.Locked)).
		Set("swap", int64(m.Swap))
}
