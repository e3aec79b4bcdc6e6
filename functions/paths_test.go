package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestPaths(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"basename linux", `SELECT basename(path="/foo/bar/baz", path_type='linux') AS b FROM scope()`, `[{"b":"baz"}]`, ""},
		{"basename guesses windows", `SELECT basename(path='C:\\Windows\\notepad.exe') AS b, basename(path='/usr/bin/ls') AS c FROM scope()`, `[{"b":"notepad.exe","c":"ls"}]`, ""},
		{"dirname linux", `SELECT dirname(path="/foo/bar/baz", path_type='linux') AS d FROM scope()`, `[{"d":"/foo/bar"}]`, ""},
		{"quoted component kept whole", `SELECT basename(path='/foo/bar/"http://www.google.com/"', path_type='generic') AS b FROM scope()`, `[{"b":"http://www.google.com/"}]`, ""},
		{"windows dirname quotes a component with separators",
			`SELECT basename(path='c:\\foo\\bar\\"http://www.google.com/"/Foobar', path_type='windows') AS b, dirname(path='c:\\foo\\bar\\"http://www.google.com/"/Foobar', path_type='windows') AS d FROM scope()`,
			`[{"b":"Foobar","d":"c:\\foo\\bar\\\"http://www.google.com/\""}]`, ""},
		{"path_split", `SELECT path_split(path="/a/b/c/d/e", path_type='linux')[-2] AS p, path_split(path='C:\\x\\y') AS q FROM scope()`, `[{"p":"d","q":["C:","x","y"]}]`, ""},
		{"path_join", `SELECT path_join(components=["a", "/b", "c"]) AS p, path_join(components=["C:", "Windows"], path_type="windows") AS w, path_join(components=["x", "y"], sep="\\") AS s FROM scope()`, `[{"p":"a/b/c","w":"C:\\Windows","s":"x\\y"}]`, ""},
		{"relpath", `SELECT relpath(path=pathspec(parse="/foo/bar"), base="/foo", sep="/") AS r, relpath(path='C:\\a\\b\\c', base='C:\\a', sep="\\") AS w FROM scope()`, `[{"r":"bar","w":"b\\c"}]`, ""},
		{"pathspec delegate serialises as JSON", `LET p = pathspec(DelegateAccessor="file", DelegatePath="C:/Windows") SELECT p, pathspec(parse=p.String) AS q, pathspec(parse=p) AS r FROM scope()`,
			`[{"p":"{\"DelegateAccessor\":\"file\",\"DelegatePath\":\"C:/Windows\"}","q":"{\"DelegateAccessor\":\"file\",\"DelegatePath\":\"C:/Windows\"}","r":"{\"DelegateAccessor\":\"file\",\"DelegatePath\":\"C:/Windows\"}"}]`, ""},
		{"pathspec types", `SELECT pathspec(parse="C:\\Windows", path_type='windows') AS w, pathspec(parse="/usr/lib", path_type='linux') AS l, pathspec(parse="HKU/Software", path_type='registry') AS r, pathspec(parse="HKU/Software", path_type='registry').Components AS c FROM scope()`,
			`[{"w":"C:\\Windows","l":"/usr/lib","r":"HKEY_USERS\\Software","c":["HKEY_USERS","Software"]}]`, ""},
		{"device paths are one component", `LET s = pathspec(parse="\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy1\\Windows\\System32\\Notepad.exe", path_type="windows") SELECT s.Dirname AS d, s.Dirname.Basename AS db, s.Basename AS b, s.Components AS c FROM scope()`,
			`[{"d":"\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy1\\Windows\\System32","db":"System32","b":"Notepad.exe","c":["\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy1","Windows","System32","Notepad.exe"]}]`, ""},
		{"nested delegate", `SELECT pathspec(Path="ControlSet001", DelegateAccessor="raw_ntfs", DelegatePath=pathspec(Path="/W/S", DelegateAccessor="offset", DelegatePath="/mnt/flat")) AS p FROM scope()`,
			`[{"p":"{\"DelegateAccessor\":\"raw_ntfs\",\"DelegatePath\":\"{\\\"DelegateAccessor\\\":\\\"offset\\\",\\\"DelegatePath\\\":\\\"/mnt/flat\\\",\\\"Path\\\":\\\"/W/S\\\"}\",\"Path\":\"/ControlSet001\"}"}]`, ""},
		{"human string of nested delegates", `SELECT pathspec(Path="ControlSet001", DelegateAccessor="raw_ntfs", DelegatePath=pathspec(Path="/Windows/System32/Config/SYSTEM", DelegateAccessor="offset", DelegatePath=pathspec(Path="122683392", DelegateAccessor="zip", DelegatePath="/shared/mnt/flat"))).HumanString AS h FROM scope()`,
			`[{"h":"/shared/mnt/flat -> /122683392 -> Windows\\System32\\Config\\SYSTEM -> /ControlSet001"}]`, ""},
		{"pathspec members", `SELECT pathspec(parse="/a/b/c").Basename AS b, pathspec(parse="/a/b/c").Path AS p, pathspec(DelegatePath="/img", Path="x").DelegatePath AS d FROM scope()`, `[{"b":"c","p":"/a/b/c","d":"/img"}]`, ""},
		{"unknown path type", `SELECT basename(path="/a", path_type="dos") AS b FROM scope()`, `[{"b":null}]`, `unknown path_type "dos"`},
		{"path of the wrong type", `SELECT basename(path=3) AS b FROM scope()`, `[{"b":null}]`, "basename: Field path should be a path or a string not int64"},
	})
}
