package plugins

import (
	"context"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/uploads"
	"github.com/vqlq/vqlq/vql"
)

// Uploads lists what upload() stored in the session's org. The org is
// the session's: no argument reaches another org's files.
var Uploads = vql.PluginFunc{
	Meta: vql.Info{
		Name:        "uploads",
		Doc:         "One row per file upload() stored in this org (its latest upload): Name, Size, sha256, md5, StoredPath, Source, Accessor, Time, Principal.",
		Permissions: []vql.Permission{vql.PermReadResults},
	},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			if scope.UploadDir() == "" {
				scope.Errorf("uploads: %v", uploads.ErrNoStore)
				return
			}
			err := uploads.Store{Dir: scope.UploadDir()}.List(scope.Org(), func(r uploads.Record) bool {
				return ctx.Err() == nil && yield(ordereddict.NewDict().Set("Name", r.Name).Set("Size", r.Size).
					Set("sha256", r.SHA256).Set("md5", r.MD5).Set("StoredPath", r.StoredPath).
					Set("Source", r.Source).Set("Accessor", r.Accessor).Set("Time", r.Time).Set("Principal", r.Principal))
			})
			if err != nil {
				scope.Errorf("uploads: %v", err)
			}
		}
	},
}
