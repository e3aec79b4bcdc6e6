package functions

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// UploadDirectory is upload() into a folder of the host instead of the
// store: Windows.KapeFiles.Extract rebuilds a collection's files under
// an output folder with their original times. Velociraptor asks
// FILESYSTEM_WRITE of it; reading the file, the accessor asks its own.
var UploadDirectory = needs(fn("upload_directory", "Copy the file (read through accessor) to output/name on this host, with the times given: {Path, Size, StoredSize, sha256, md5, StoredName, Components, Accessor}.",
	[]vql.ArgSpec{
		arg("file", vql.TypeAny, true, "The file to copy (a path or a pathspec; with accessor=\"data\", the data itself)."),
		arg("name", vql.TypeAny, false, "Where under output to write it, as a path or pathspec (default: the file's path)."),
		accessorArg,
		arg("output", vql.TypeString, true, "The folder the file is written under (made when missing)."),
		arg("mtime", vql.TypeAny, false, "The modification time to give the written file."),
		arg("atime", vql.TypeAny, false, "The access time to give the written file (default: mtime)."),
		arg("ctime", vql.TypeAny, false, "Accepted: a file's change time cannot be set on this host."),
		arg("btime", vql.TypeAny, false, "Accepted: a file's birth time cannot be set on this host."),
	}, func(c call) any {
		acc := c.args.String("accessor", accessors.Default)
		output := c.args.String("output", "")
		file := c.args.Value("file")
		if c.args.Failed() {
			return nil
		}
		if output == "" {
			c.scope.Errorf("upload_directory: output: a folder is required")
			return nil
		}
		mtime, ok := optionalTime(c, "mtime")
		if !ok {
			return nil
		}
		atime, ok := optionalTime(c, "atime")
		if !ok {
			return nil
		}
		name := c.args.Value("name")
		if name == nil {
			name = uploadName(file, acc)
		}
		components := safeComponents(name)
		if len(components) == 0 {
			c.scope.Errorf("upload_directory: name: %q names no file under output", accessors.PathString(name))
			return nil
		}
		dest := filepath.Join(append([]string{output}, components...)...)
		r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "upload_directory", "file")
		if !ok {
			return nil
		}
		defer r.Close()
		sha, md := sha256.New(), md5.New()
		counter := &countingWriter{}
		err := writeHostFile(dest, 0o644, false, false, true, io.TeeReader(accessors.Reader(c.ctx, r), io.MultiWriter(sha, md, counter)))
		if err != nil {
			c.scope.Errorf("upload_directory: %v", err)
			return nil
		}
		if !mtime.IsZero() || !atime.IsZero() {
			if atime.IsZero() {
				atime = mtime
			}
			if mtime.IsZero() {
				mtime = atime
			}
			if err := os.Chtimes(dest, atime, mtime); err != nil {
				c.scope.Errorf("upload_directory: setting the times of %s: %v", dest, err)
			}
		}
		return ordereddict.NewDict().Set("Path", dest).Set("Size", counter.n).Set("StoredSize", counter.n).
			Set("sha256", hex.EncodeToString(sha.Sum(nil))).Set("md5", hex.EncodeToString(md.Sum(nil))).
			Set("StoredName", dest).Set("Components", toAnyList(components)).Set("Accessor", acc)
	}), vql.PermFilesystemWrite)

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// optionalTime reads a time argument (a timestamp, epoch or date text);
// absent or NULL is the zero time.
func optionalTime(c call, name string) (time.Time, bool) {
	v := c.args.Value(name)
	if v == nil {
		return time.Time{}, true
	}
	t, err := value.ToTime(v)
	if err != nil {
		c.scope.Errorf("upload_directory: %s: %v", name, err)
		return time.Time{}, false
	}
	return t, true
}

// safeComponents are the parts of name that become folders and the file
// under output. Nothing may climb out of it: empty, "." and ".."
// components are dropped, and a separator or NUL inside a component is
// escaped, so a pathspec from an evidence container cannot write
// elsewhere on the host.
func safeComponents(name any) []string {
	var parts []string
	if p, ok := name.(*accessors.OSPath); ok {
		parts = p.Components
	} else {
		parts = strings.FieldsFunc(accessors.PathString(name), func(r rune) bool { return r == '/' || r == '\\' })
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		switch p {
		case "", ".", "..":
			continue
		}
		p = strings.NewReplacer("/", "%2F", "\\", "%5C", "\x00", "%00").Replace(p)
		out = append(out, p)
	}
	return out
}
