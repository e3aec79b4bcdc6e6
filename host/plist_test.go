package host_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// xmlPlist is a launch agent as macOS writes one.
const xmlPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>com.example.agent</string>
	<key>ProgramArguments</key>
	<array>
		<string>/usr/local/bin/agent</string>
		<string>--daemon</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>Nice</key>
	<integer>-5</integer>
	<key>Interval</key>
	<real>1.5</real>
	<key>Installed</key>
	<date>2024-03-01T10:20:30Z</date>
</dict>
</plist>
`

// TestPlist parses real XML and binary plists written by the test.
func TestPlist(t *testing.T) {
	dir := t.TempDir()
	xmlFile := filepath.Join(dir, "agent.plist")
	binFile := filepath.Join(dir, "recent.plist")
	listFile := filepath.Join(dir, "dock.plist")
	badFile := filepath.Join(dir, "bad.plist")
	nested, err := plist.Marshal(map[string]any{"GeneratedUID": "ABCD-1234"}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := plist.Marshal(map[string]any{
		"FXRecentFolders": []any{map[string]any{"name": "Downloads"}, map[string]any{"name": "Desktop"}},
		"Count":           uint64(2),
		"Identity":        nested,
		"When":            time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC),
	}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	list, err := plist.Marshal([]any{map[string]any{"app": "Safari"}, map[string]any{"app": "Mail"}, "odd"}, plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{xmlFile: []byte(xmlPlist), binFile: bin, listFile: list, badFile: []byte("<plist><dict><key>x</key>")} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vqltest.RunWith(t, all, []vqltest.Case{
		{"xml", `SELECT plist(file="` + xmlFile + `") AS P FROM scope()`,
			`[{"P":{"Installed":"2024-03-01T10:20:30Z","Interval":1.5,"Label":"com.example.agent","Nice":-5,"ProgramArguments":["/usr/local/bin/agent","--daemon"],"RunAtLoad":true}}]`, ""},
		{"binary", `SELECT plist(file="` + binFile + `").FXRecentFolders.name AS Names, plist(file="` + binFile + `").Count AS Count, plist(file="` + binFile + `").When AS When FROM scope()`,
			`[{"Names":["Downloads","Desktop"],"Count":2,"When":"2023-05-06T07:08:09Z"}]`, ""},
		{"data holding a plist, parsed again", `LET P <= plist(file="` + binFile + `")
SELECT plist(file=P.Identity, accessor="data").GeneratedUID AS UID FROM scope()`, `[{"UID":"ABCD-1234"}]`, ""},
		{"plugin: a dict is one row", `SELECT FXRecentFolders.name AS Names FROM plist(file="` + binFile + `")`,
			`[{"Names":["Downloads","Desktop"]}]`, ""},
		{"plugin: a list is a row per item", `SELECT * FROM plist(file="` + listFile + `")`,
			`[{"app":"Safari"},{"app":"Mail"},{"_value":"odd"}]`, ""},
		{"a glob's OSPath, as artifacts pass it", `SELECT * FROM foreach(row={SELECT OSPath FROM glob(globs="` + dir + `/agent.plist")}, query={SELECT Label, RunAtLoad FROM plist(file=OSPath)})`,
			`[{"Label":"com.example.agent","RunAtLoad":true}]`, ""},
		{"not a plist", `SELECT plist(file="` + badFile + `") AS P FROM scope()`, `[{"P":null}]`, `plist: "` + badFile + `" is not a property list`},
		{"no such file", `SELECT plist(file="` + filepath.Join(dir, "none") + `") AS P FROM scope()`, `[{"P":null}]`, "no such file or directory"},
	})
}
