package host

import (
	"context"
	"errors"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/fsnotify/fsnotify"

	"github.com/vqlq/vqlq/vql"
)

// modifiedEvery is the shortest time between two "modified" rows of one
// file: a program writing a file in many small writes makes one event a
// write, and a monitoring query wants to know the file changes, not how
// it was buffered.
const modifiedEvery = time.Second

// maxQuiet bounds how many files' last "modified" times are remembered.
const maxQuiet = 1 << 14

// WatchFiles yields a row each time a file is created, written,
// renamed, removed or has its attributes changed, as the kernel reports
// it (inotify on Linux, kqueue on macOS, through fsnotify) rather than by
// listing directories every so often, so a file that lives for a
// millisecond is still seen. Velociraptor has no such plugin on Linux
// (watch_usn is NTFS's journal, watch_ebpf needs eBPF); the rows take its
// column names.
//
// A directory given is watched for its entries, with recursive=TRUE
// every directory below it too, including those made later (whose
// entries made before their watch was in place are reported "created"
// when it is, so a file dropped in a new directory at once is not
// missed). A file given is watched alone. A rename reports the old name
// "renamed" and the new one "created".
var WatchFiles = vql.PluginFunc{
	Meta: vql.Info{Name: "watch_files",
		Doc: "Yields a row per change to the files in directories (or to files) as the kernel reports it: OSPath, Action (created, modified, removed, renamed, attributes), Time.",
		Args: []vql.ArgSpec{
			{Name: "path", Type: vql.TypeAny, Required: true, Doc: "Directories or files to watch (paths or pathspecs, one or a list); they must exist."},
			{Name: "recursive", Type: vql.TypeBool, Doc: "Also watch every directory below the given ones, including those made later."},
			{Name: "accessor", Type: vql.TypeString, Doc: "Only the host's files are watched (\"\", \"auto\" or \"file\")."},
		},
		Permissions: perms(vql.PermFilesystemRead)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			acc, recursive := args.String("accessor", ""), args.Bool("recursive", false)
			names, ok := hostPaths(scope, "watch_files", "path", args.Value("path"))
			if args.Failed() || !ok || !hostAccessor(scope, "watch_files", acc) {
				return
			}
			if len(names) == 0 {
				scope.Errorf("watch_files: path is empty: give the directories or files to watch")
				return
			}
			w, err := newFileWatch(scope, names, recursive)
			if err != nil {
				scope.Errorf("watch_files: %v", err)
				return
			}
			defer w.watcher.Close()
			w.run(ctx, yield)
		}
	},
}

// fileWatch is one watch_files() call's watches.
type fileWatch struct {
	scope     *vql.Scope
	watcher   *fsnotify.Watcher
	recursive bool
	// dirs are the watched directories (their entries' events are
	// wanted); files the files watched alone, through their directory.
	dirs, files map[string]bool
	quiet       map[string]time.Time
}

func newFileWatch(scope *vql.Scope, names []string, recursive bool) (*fileWatch, error) {
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &fileWatch{scope: scope, watcher: watcher, recursive: recursive,
		dirs: map[string]bool{}, files: map[string]bool{}, quiet: map[string]time.Time{}}
	watched := 0
	for _, name := range names {
		name = filepath.Clean(name)
		st, err := os.Stat(name)
		if err != nil {
			scope.Errorf("watch_files: %v", err)
			continue
		}
		if !st.IsDir() {
			if err := watcher.Add(filepath.Dir(name)); err != nil {
				scope.Errorf("watch_files: %s: %v", name, err)
				continue
			}
			w.files[name] = true
			watched++
			continue
		}
		if w.addDir(name, nil) {
			watched++
		}
	}
	if watched == 0 {
		watcher.Close()
		return nil, errors.New("nothing to watch")
	}
	return w, nil
}

// addDir watches dir (and with recursive the directories below it). With
// found, the entries below it are passed to found: they were made before
// the watch and would otherwise never be reported.
func (w *fileWatch) addDir(dir string, found func(path string)) bool {
	if err := w.watcher.Add(dir); err != nil {
		w.scope.Errorf("watch_files: %s: %v", dir, err)
		return false
	}
	w.dirs[dir] = true
	if !w.recursive && found == nil {
		return true
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return nil
		}
		if found != nil {
			found(path)
		}
		if d.IsDir() {
			if !w.recursive {
				return fs.SkipDir
			}
			if err := w.watcher.Add(path); err != nil {
				w.scope.Log(vql.LevelWarn, "watch_files: %s: %v", path, err)
				return fs.SkipDir
			}
			w.dirs[path] = true
		}
		return nil
	})
	return true
}

func (w *fileWatch) run(ctx context.Context, yield func(vql.Row) bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-w.watcher.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.scope.Log(vql.LevelWarn, "watch_files: the kernel's event queue overflowed: some changes were not reported")
			} else {
				w.scope.Log(vql.LevelWarn, "watch_files: %v", err)
			}
		case ev, ok := <-w.watcher.Events:
			if !ok {
				return
			}
			if !w.handle(ev, yield) {
				return
			}
		}
	}
}

// opActions are the actions an event's operations report, in the order
// a row is made for each.
var opActions = []struct {
	op     fsnotify.Op
	action string
}{
	{fsnotify.Create, "created"},
	{fsnotify.Write, "modified"},
	{fsnotify.Chmod, "attributes"},
	{fsnotify.Rename, "renamed"},
	{fsnotify.Remove, "removed"},
}

// handle yields the rows of one event; false when the consumer stopped.
func (w *fileWatch) handle(ev fsnotify.Event, yield func(vql.Row) bool) bool {
	name := filepath.Clean(ev.Name)
	if !w.files[name] && !w.dirs[filepath.Dir(name)] && !w.dirs[name] {
		return true
	}
	emit := func(path, action string) bool {
		now := time.Now()
		if action == "modified" {
			if last, ok := w.quiet[path]; ok && now.Sub(last) < modifiedEvery {
				return true
			}
			if len(w.quiet) >= maxQuiet {
				clear(w.quiet)
			}
			w.quiet[path] = now
		} else {
			delete(w.quiet, path)
		}
		return yield(ordereddict.NewDict().Set("OSPath", path).Set("Action", action).Set("Time", now.UTC()))
	}
	for _, oa := range opActions {
		if !ev.Has(oa.op) {
			continue
		}
		// A new directory's watch is in place before its row is made, so
		// what a reader of the row does in it next is seen.
		var found []string
		if oa.op == fsnotify.Create && w.recursive && w.dirs[filepath.Dir(name)] {
			if st, err := os.Lstat(name); err == nil && st.IsDir() {
				w.addDir(name, func(p string) { found = append(found, p) })
			}
		}
		if !emit(name, oa.action) {
			return false
		}
		for _, p := range found {
			if !emit(p, "created") {
				return false
			}
		}
		if oa.op == fsnotify.Remove || oa.op == fsnotify.Rename {
			// A watched directory that is gone is no longer watched.
			delete(w.dirs, name)
		}
	}
	return true
}
