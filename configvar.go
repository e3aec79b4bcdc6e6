package vqlq

import (
	"runtime"
	"runtime/debug"

	"github.com/Velocidex/ordereddict"
)

// configVar is the config variable Velociraptor gives server artifacts
// (its client configuration), as far as vqlq has one: the version of the
// build, which Server.Utils.ArtifactVerifier reports as config.version.
// vqlq has no clients yet, so the configuration's other members (server
// URLs, certificates) are not there and read as NULL.
func configVar() *ordereddict.Dict {
	v := ordereddict.NewDict().Set("name", "vqlq").Set("version", "(devel)").
		Set("commit", "").Set("build_time", "").Set("compiler", runtime.Version())
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			v.Set("version", info.Main.Version)
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Set("commit", s.Value)
			case "vcs.time":
				v.Set("build_time", s.Value)
			}
		}
	}
	return ordereddict.NewDict().Set("version", v)
}
