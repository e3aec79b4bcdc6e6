package artifacts

import (
	"embed"
	"io/fs"
)

// examplesFS holds the example CLIENT_EVENT artifacts: what endpoint
// monitoring on Linux usually starts with (process starts, new listening
// sockets, authentication events), written with vqlq's host plugins. They
// are no built-ins (built-ins are queues without sources, in every org):
// a user loads them as a definitions folder (--definitions
// artifacts/examples from a clone), and a program that embeds vqlq, or
// vqlq's own client, reads them here.
//
//go:embed examples/*.yaml
var examplesFS embed.FS

// Examples returns the example definitions, one YAML file per artifact
// at the root of the file system.
func Examples() fs.FS {
	sub, err := fs.Sub(examplesFS, "examples")
	if err != nil {
		panic("artifacts: the embedded examples: " + err.Error())
	}
	return sub
}
