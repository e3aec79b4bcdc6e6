package functions

import (
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/uploads"
	"github.com/vqlq/vqlq/vql"
)

// Upload stores a file in the data folder's uploads, in the session's
// org: what a Velociraptor client sends to the server's file store. The
// file streams through the accessor into the store, digested on the way.
// Velociraptor asks FILESYSTEM_READ of it (the reading is the privilege;
// the store is the server's own); the accessor asks it again for a host
// file.
var Upload = needs(fn("upload", "Store the file (read through accessor) in the data folder's uploads as name: {Path, Size, StoredSize, sha256, md5, StoredName, Components, Accessor}.",
	[]vql.ArgSpec{
		arg("file", vql.TypeAny, true, "The file to upload (a path or a pathspec; with accessor=\"data\", the data itself)."),
		arg("name", vql.TypeAny, false, "The name to store it under (default: the file's path)."),
		accessorArg,
		arg("mtime", vql.TypeAny, false, "Accepted for compatibility."),
		arg("atime", vql.TypeAny, false, "Accepted for compatibility."),
		arg("ctime", vql.TypeAny, false, "Accepted for compatibility."),
		arg("btime", vql.TypeAny, false, "Accepted for compatibility."),
	}, func(c call) any {
		acc := c.args.String("accessor", accessors.Default)
		file := c.args.Value("file")
		if c.args.Failed() {
			return nil
		}
		name := uploadName(file, acc)
		if n := c.args.Value("name"); n != nil {
			name = accessors.PathString(n)
		}
		if c.scope.UploadDir() == "" {
			c.scope.Errorf("upload: %v", uploads.ErrNoStore)
			return nil
		}
		r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "upload", "file")
		if !ok {
			return nil
		}
		defer r.Close()
		id := c.scope.Identity()
		rec, err := uploads.Store{Dir: c.scope.UploadDir()}.Put(c.scope.Org(), name, accessors.Reader(c.ctx, r),
			uploads.Record{Source: accessors.PathString(file), Accessor: acc, Principal: id.Principal})
		if err != nil {
			c.scope.Errorf("upload: %v", err)
			return nil
		}
		components := toAnyList(strings.Split(rec.Name, "/"))
		return ordereddict.NewDict().Set("Path", rec.Source).Set("Size", rec.Size).Set("StoredSize", rec.Size).
			Set("sha256", rec.SHA256).Set("md5", rec.MD5).Set("StoredName", rec.Name).
			Set("Components", components).Set("Accessor", acc)
	}), vql.PermFilesystemRead)

// uploadName is the name a file is stored under when upload() names
// none: its path, a zip member's under its archive's path. Data is not a
// path: it is stored as "data".
func uploadName(file any, accessor string) string {
	if p, ok := file.(*accessors.OSPath); ok && p.DelegatePath != "" {
		return p.DelegatePath + "/" + strings.Join(p.Components, "/")
	}
	switch accessor {
	case "data":
		return "data"
	case "scope", "pipe":
		return accessors.PathString(file)
	}
	return accessors.HostPath(file)
}
