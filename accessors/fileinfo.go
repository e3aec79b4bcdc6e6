package accessors

import (
	"io/fs"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// FileInfo is what an accessor knows of one file: a row of glob() and the
// result of stat(), with Velociraptor's column names so that artifacts
// read Mtime, IsDir or OSPath.Basename as they do there.
type FileInfo struct {
	OSPath *OSPath
	Name   string
	Size   int64
	Mode   FileMode
	// Mtime, Atime, Ctime and Btime are zero when the accessor does not
	// know them (a zip member has no access time); they read as NULL.
	Mtime, Atime, Ctime, Btime time.Time
	IsDir, IsLink              bool
	// Data holds what only this accessor knows (a link's target, a zip
	// member's compressed size).
	Data *ordereddict.Dict
	// Globs are the patterns of glob() that matched the file.
	Globs []string
}

var fileInfoKeys = []string{"Name", "Mtime", "Atime", "Ctime", "Btime", "Size", "Mode", "IsDir", "IsLink", "Data", "Globs", "OSPath"}

// Keys are the columns of `SELECT * FROM glob(…)`, in Velociraptor's order.
func (f *FileInfo) Keys() []string { return fileInfoKeys }

// Get reads a column, and the older names Velociraptor still answers to
// (ModTime, FullPath).
func (f *FileInfo) Get(key string) (any, bool) {
	switch key {
	case "Name":
		return f.Name, true
	case "Mtime", "ModTime":
		return timeOrNil(f.Mtime), true
	case "Atime":
		return timeOrNil(f.Atime), true
	case "Ctime":
		return timeOrNil(f.Ctime), true
	case "Btime":
		return timeOrNil(f.Btime), true
	case "Size":
		return f.Size, true
	case "Mode":
		return f.Mode, true
	case "IsDir":
		return f.IsDir, true
	case "IsLink":
		return f.IsLink, true
	case "Data":
		if f.Data == nil {
			return ordereddict.NewDict(), true
		}
		return f.Data, true
	case "Globs":
		out := make([]any, len(f.Globs))
		for i, g := range f.Globs {
			out[i] = g
		}
		return out, true
	case "OSPath":
		return f.OSPath, true
	case "FullPath":
		return f.OSPath.String(), true
	}
	return nil, false
}

// MarshalJSON writes the columns in order.
func (f *FileInfo) MarshalJSON() ([]byte, error) {
	d := ordereddict.NewDict()
	for _, k := range fileInfoKeys {
		v, _ := f.Get(k)
		d.Set(k, v)
	}
	return value.EncodeJSON(d)
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// FileMode is a file's type and permission bits. It is written as its
// number, as Velociraptor writes it, and answers Mode.String
// ("-rw-r--r--") and Mode.IsRegular, as Go's os.FileMode does there.
type FileMode fs.FileMode

// Get reads Mode.String, Mode.IsRegular, Mode.IsDir and Mode.Perm.
func (m FileMode) Get(key string) (any, bool) {
	switch key {
	case "String":
		return fs.FileMode(m).String(), true
	case "IsRegular":
		return fs.FileMode(m).IsRegular(), true
	case "IsDir":
		return fs.FileMode(m).IsDir(), true
	case "Perm":
		return int64(fs.FileMode(m).Perm()), true
	}
	return nil, false
}

// String is the mode as ls writes it.
func (m FileMode) String() string { return fs.FileMode(m).String() }

// MarshalJSON writes the mode as a number.
func (m FileMode) MarshalJSON() ([]byte, error) { return value.EncodeJSON(int64(m)) }
