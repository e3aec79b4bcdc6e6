package runner

import (
	"slices"
	"sort"
	"testing"

	"github.com/vqlq/vqlq/vql"
)

const (
	readResults  = vql.PermReadResults
	publish      = vql.PermPublish
	network      = vql.PermNetwork
	machineState = vql.PermMachineState
	serverAdmin  = vql.PermServerAdmin
	collect      = vql.PermCollectServer
	fsRead       = vql.PermFilesystemRead
	fsWrite      = vql.PermFilesystemWrite
	execve       = vql.PermExecve
	deleteEvents = vql.PermDeleteResults
)

// declaredPlugins and declaredFunctions are the permissions every plugin
// and function of the command's engine declares (vql.Info.Permissions),
// following Velociraptor's choice for the same call. A call that needs
// nothing has an empty entry. A new plugin or function gets its row
// here, or TestEveryCallDeclaresItsPermissions fails.
//
// Some rights depend on an argument and are asked for at run time
// (Scope.Require), not declared: artifact_set and artifact_delete need
// ARTIFACT_WRITER, or SERVER_ARTIFACT_WRITER for an artifact the server
// runs; an accessor that opens host files asks for its own (accessors);
// Artifact.X(), collect() and add_server_monitoring() ask for the
// artifact's required_permissions.
var declaredPlugins = map[string][]vql.Permission{
	"artifact_definitions": {readResults},
	"batch":                {},
	"chain":                {},
	"clock":                {},
	"column_filter":        {},
	"combine":              {},
	"consumers":            {readResults},
	"dedup":                {},
	"delay":                {},
	"diff":                 {},
	"fifo":                 {},
	"flatten":              {},
	"for":                  {},
	"foreach":              {},
	"help":                 {},
	"http_client":          {network},
	"if":                   {},
	"info":                 {machineState},
	"inventory":            {}, // as Velociraptor: the tools' names, urls and hashes
	"items":                {},
	// vqlq's monitoring logs quote the parameters of the table (web hook
	// URLs, keys), which get_server_monitoring keeps to admins: more than
	// Velociraptor's READ_RESULTS.
	"monitoring_logs":          {serverAdmin},
	"orgs":                     {}, // every org only for AllOrgs identities
	"parse_csv":                {},
	"parse_json_array":         {},
	"parse_jsonl":              {},
	"parse_lines":              {},
	"parse_records_with_regex": {},
	"query":                    {},
	"queues":                   {},
	"range":                    {},
	"sample":                   {},
	"scope":                    {},
	"sequence":                 {},
	"source":                   {readResults},
	"split_records":            {},
	"switch":                   {},
	"watch_monitoring":         {readResults},
	// The host (package host) and its files (plugins, accessors).
	"connections":  {machineState},
	"environ":      {machineState},
	"execve":       {execve},
	"glob":         {fsRead},
	"interfaces":   {machineState},
	"netstat":      {machineState},
	"plist":        {fsRead},
	"pslist":       {machineState},
	"sqlite":       {fsRead},
	"stat":         {fsRead},
	"users":        {machineState},
	"watch_syslog": {fsRead},
	"unzip":        {fsWrite, fsRead},
	"uploads":      {readResults},
	"write_csv":    {fsWrite},
	"write_jsonl":  {fsWrite},
	// Server services.
	"delete_events":   {deleteEvents},
	"mail":            {network},
	"notebook_delete": {serverAdmin},
	"timeline":        {readResults},
	"timelines":       {readResults},
	// Forwarders (package forward); naming another dead-letter queue
	// also asks for PUBLISH at run time.
	"elastic_upload": {network},
	"splunk_upload":  {network},
	"webhook_upload": {network},
}

var declaredFunctions = map[string][]vql.Permission{
	// Velociraptor asks COLLECT_SERVER; vqlq's monitoring runs as the
	// server with every permission, so adding to it is an admin's act.
	"add_server_monitoring":   {serverAdmin},
	"alert":                   {publish},
	"all":                     {},
	"any":                     {},
	"array":                   {},
	"artifact_delete":         {}, // by the artifact's type (mayWrite)
	"artifact_set":            {}, // by the artifact's type (mayWrite)
	"atoi":                    {},
	"base64decode":            {},
	"base64encode":            {},
	"basename":                {},
	"cache":                   {},
	"cidr_contains":           {},
	"collect":                 {collect},
	"commandline_split":       {},
	"consumer_delete":         {readResults},
	"count":                   {},
	"dict":                    {},
	"dirname":                 {},
	"encode":                  {},
	"entropy":                 {},
	"enumerate":               {},
	"eval":                    {},
	"filter":                  {},
	"format":                  {},
	"generate":                {},
	"get":                     {},
	"geoip":                   {fsRead},
	"get_server_monitoring":   {serverAdmin},
	"grok":                    {},
	"gunzip":                  {},
	"gzip":                    {},
	"hash":                    {},
	"http_client":             {network},
	"humanize":                {},
	"if":                      {},
	"int":                     {},
	"inventory_add":           {serverAdmin},
	"inventory_get":           {serverAdmin},
	"ip":                      {},
	"items":                   {},
	"join":                    {},
	"len":                     {},
	"log":                     {},
	"lowcase":                 {},
	"lru":                     {},
	"max":                     {},
	"memoize":                 {},
	"min":                     {},
	"now":                     {},
	"org":                     {},
	"parse_binary":            {},
	"parse_float":             {},
	"parse_json":              {},
	"parse_json_array":        {},
	"parse_pkcs7":             {},
	"parse_string_with_regex": {},
	"parse_x509":              {},
	"parse_xml":               {},
	"parse_yaml":              {},
	"path_join":               {},
	"path_split":              {},
	"pathspec":                {},
	"pipe":                    {},
	"rand":                    {},
	"rate":                    {},
	"read_file":               {},
	"regex_replace":           {},
	"regex_transform":         {},
	"relpath":                 {},
	"rm_server_monitoring":    {serverAdmin},
	"rot13":                   {},
	"scope":                   {},
	"semver":                  {},
	"send_event":              {publish},
	"serialize":               {},
	"server_metadata":         {serverAdmin},
	"server_set_metadata":     {serverAdmin},
	"set":                     {},
	"sigma_log_sources":       {},
	"similarity":              {},
	"sleep":                   {},
	"slice":                   {},
	"stat":                    {fsRead},
	"split":                   {},
	"str":                     {},
	"strip":                   {},
	"substr":                  {},
	"sum":                     {},
	"template":                {},
	"timeline_add":            {readResults},
	"timeline_delete":         {vql.PermNotebookEditor},
	"timestamp":               {},
	"timestamp_format":        {},
	"to_dict":                 {},
	"typeof":                  {},
	"unhex":                   {},
	"upcase":                  {},
	"url":                     {},
	"utf16":                   {},
	"utf16_encode":            {},
	"uuid":                    {},
	"version":                 {},
	"verify":                  {},
	"xor":                     {},
	// The host and server services.
	"copy":             {fsWrite, fsRead},
	"expand":           {},
	"rm":               {fsWrite},
	"tempdir":          {fsWrite},
	"tempfile":         {fsWrite},
	"upload":           {fsRead},
	"upload_directory": {fsWrite},
	"environ":          {machineState},
	"getpid":           {},
	"host":             {machineState}, // Velociraptor's choice: a lookup through the host's resolver
	"mail":             {network},
	"plist":            {fsRead},
	"whoami":           {},
}

// TestEveryCallDeclaresItsPermissions: every plugin and function the
// command's engine has declares exactly the permissions of its row in
// declaredPlugins / declaredFunctions, and every row names a call the
// engine has.
func TestEveryCallDeclaresItsPermissions(t *testing.T) {
	e := (&Backend{Flags: &StoreFlags{DataDir: t.TempDir()}}).Engine()
	for _, kind := range []struct {
		name, table string
		infos       []vql.Info
		rows        map[string][]vql.Permission
	}{
		{"plugin", "declaredPlugins", e.Plugins(), declaredPlugins},
		{"function", "declaredFunctions", e.Functions(), declaredFunctions},
	} {
		seen := map[string]bool{}
		for _, info := range kind.infos {
			seen[info.Name] = true
			want, ok := kind.rows[info.Name]
			if !ok {
				t.Errorf("%s %s declares %v and has no row: add it to %s", kind.name, info.Name, info.Permissions, kind.table)
				continue
			}
			if !slices.Equal(info.Permissions, want) && (len(info.Permissions) != 0 || len(want) != 0) {
				t.Errorf("%s %s declares %v, want %v", kind.name, info.Name, info.Permissions, want)
			}
		}
		var stale []string
		for name := range kind.rows {
			if !seen[name] {
				stale = append(stale, name)
			}
		}
		sort.Strings(stale)
		for _, name := range stale {
			t.Errorf("%s has a row for %s, which the engine does not have", kind.table, name)
		}
	}
}
