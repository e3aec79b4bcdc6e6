package runner

import (
	"slices"
	"sort"
	"testing"

	"github.com/vqlq/vqlq/vql"
)

const (
	readResults   = vql.PermReadResults
	publish       = vql.PermPublish
	network       = vql.PermNetwork
	machineState  = vql.PermMachineState
	serverAdmin   = vql.PermServerAdmin
	collect       = vql.PermCollectServer
	fsRead        = vql.PermFilesystemRead
	fsWrite       = vql.PermFilesystemWrite
	execve        = vql.PermExecve
	deleteEvents  = vql.PermDeleteResults
	labelClient   = vql.PermLabelClient
	orgAdmin      = vql.PermOrgAdmin
	startHunt     = vql.PermStartHunt
	prepare       = vql.PermPrepareResults
	collectClient = vql.PermCollectClient
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
	"connections":    {machineState},
	"environ":        {machineState},
	"execve":         {execve},
	"glob":           {fsRead},
	"interfaces":     {machineState},
	"netstat":        {machineState},
	"plist":          {fsRead},
	"pslist":         {machineState},
	"sqlite":         {fsRead},
	"stat":           {fsRead},
	"users":          {machineState},
	"watch_syslog":   {fsRead},
	"watch_files":    {fsRead},
	"watch_journald": {fsRead, execve}, // vqlq runs journalctl
	"unzip":          {fsWrite, fsRead},
	"uploads":        {readResults},
	"write_csv":      {fsWrite},
	"write_jsonl":    {fsWrite},
	// Server services.
	"delete_events": {deleteEvents},
	"mail":          {network},
	// The fleet (package fleet). client_delete and gui_users ask
	// Velociraptor's SERVER_ADMIN as it does at run time; user_messages
	// asks SERVER_ADMIN at run time for another principal's messages.
	"clients": {readResults},
	// The client event table (package clienttable), as Velociraptor:
	// reading it is READ_RESULTS, changing it COLLECT_CLIENT.
	"client_monitoring_logs": {readResults},
	"client_delete":          {serverAdmin, deleteEvents},
	"gui_users":              {serverAdmin},
	"user_messages":          {},
	"notebook_delete":        {serverAdmin},
	"timeline":               {readResults},
	"timelines":              {readResults},
	// Forwarders (package forward); naming another dead-letter queue
	// also asks for PUBLISH at run time.
	"elastic_upload":  {network},
	"splunk_upload":   {network},
	"webhook_upload":  {network},
	"logscale_upload": {network},
	"adx_upload":      {network},
	// Flows and hunts (package flows).
	"delete_flow":  {deleteEvents},
	"flows":        {readResults},
	"hunt_delete":  {serverAdmin},
	"hunt_flows":   {readResults},
	"hunt_results": {readResults},
	"hunts":        {readResults},
}

var declaredFunctions = map[string][]vql.Permission{
	// Velociraptor asks COLLECT_SERVER; vqlq's monitoring runs as the
	// server with every permission, so adding to it is an admin's act.
	"add_server_monitoring":   {serverAdmin},
	"add_client_monitoring":   {collectClient},
	"rm_client_monitoring":    {collectClient},
	"get_client_monitoring":   {readResults},
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
	"repack":                  {collect, fsWrite},
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
	// Velociraptor declares FILESYSTEM_READ only; vqlq's sends the file
	// out, so it asks NETWORK too.
	"upload_gcs": {network, fsRead},
	"plist":      {fsRead},
	"whoami":     {},
	// The fleet (package fleet). org_create also needs a session that
	// sees every org; user_options asks SERVER_ADMIN at run time for
	// another user than the session's.
	"client_info":  {readResults},
	"label":        {labelClient},
	"killkillkill": {machineState},
	"user_create":  {serverAdmin},
	"user_options": {},
	"user_message": {},
	"org_create":   {orgAdmin, serverAdmin},
	// Flows and hunts (package flows). A flow of the server needs
	// COLLECT_SERVER, one of a client COLLECT_CLIENT: asked at run time,
	// by client_id, as Velociraptor does.
	"cancel_flow":          {},
	"collect_client":       {},
	"get_flow":             {},
	"create_flow_download": {prepare},
	"create_hunt_download": {prepare},
	"file_store":           {}, // Velociraptor's choice: a path is only named
	"file_store_delete":    {serverAdmin},
	"hunt":                 {startHunt},
	"hunt_add":             {startHunt},
	"hunt_update":          {startHunt},
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
