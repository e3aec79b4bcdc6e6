// Package host holds the VQL vocabulary that reads the machine a query
// runs on rather than its data: processes, sockets, users, interfaces,
// programs run with execve, SQLite databases, plists and followed logs.
// It is a package of its own so that an embedder of the engine that wants
// none of this links none of it (gopsutil, SQLite); vqlq.NewEngine
// registers it. Every call declares the permission Velociraptor asks for
// it, so a session without MACHINE_STATE, EXECVE, NETWORK or
// FILESYSTEM_READ is refused before anything on the host is touched.
package host

import "github.com/vqlq/vqlq/vql"

// Plugins returns the host plugins.
func Plugins() []vql.Plugin {
	return []vql.Plugin{Info, Pslist, Netstat, Connections, Users, Interfaces, EnvironPlugin, Execve, SQLite, PlistPlugin, WatchSyslog, WatchJournald, WatchFiles}
}

// Functions returns the host functions.
func Functions() []vql.Function {
	return []vql.Function{Environ, Getpid, PlistFn, Host}
}

// Register adds the host plugins and functions to e.
func Register(e *vql.Engine) {
	for _, p := range Plugins() {
		e.AddPlugin(p)
	}
	for _, f := range Functions() {
		e.AddFunction(f)
	}
}

// perms is shorthand for one permission list.
func perms(p ...vql.Permission) []vql.Permission { return p }
