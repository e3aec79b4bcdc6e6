package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestPathOperators(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"a string is read as a path of the same type and appended",
			`SELECT pathspec(parse="HKU/Software", path_type='registry') + "Microsoft" AS r, (pathspec(parse="C:\\Windows", path_type='windows') + "\\foo\\bar").Components AS c FROM scope()`,
			`[{"r":"HKEY_USERS\\Software\\Microsoft","c":["C:","Windows","foo","bar"]}]`, ""},
		{"a list's strings are appended whole",
			`SELECT (pathspec(parse="C:\\Windows", path_type='windows') + ("foo/bar",)).Components AS c FROM scope()`,
			`[{"c":["C:","Windows","foo/bar"]}]`, ""},
		{"a path's components are appended, the left path's type kept",
			`SELECT pathspec(parse="/usr", path_type="linux") + pathspec(parse="C:\\x", path_type="windows") AS p FROM scope()`,
			`[{"p":"/usr/C:/x"}]`, ""},
		{"the operand is left as it was",
			`LET p = pathspec(parse="/a", path_type="linux") SELECT p + "b" AS q, p FROM scope()`,
			`[{"q":"/a/b","p":"/a"}]`, ""},
		{"slicing a path gives a path",
			`LET OSPath = pathspec(parse='''C:\Users\test\desktop.ini''', path_type="windows") SELECT OSPath[:-1] AS Home, OSPath[1:] AS DriveRelative, OSPath[1:].Basename AS b, pathspec(parse="D:", path_type="windows") + OSPath.Components[1:] AS OnD FROM scope()`,
			`[{"Home":"C:\\Users\\test","DriveRelative":"Users\\test\\desktop.ini","b":"desktop.ini","OnD":"D:\\Users\\test\\desktop.ini"}]`, ""},
		{"slice bounds are clamped",
			`SELECT pathspec(parse="/a/b", path_type="linux")[5:] AS e, pathspec(parse="/a/b", path_type="linux")[-9:1] AS f FROM scope()`,
			`[{"e":"/","f":"/a"}]`, ""},
		{"indexing a path gives a component",
			`LET OSPath = pathspec(parse='''C:\Users\test\desktop.ini''', path_type="windows") SELECT OSPath[0] AS Drive, OSPath[-1] AS Name, OSPath[-2] AS User, OSPath[4] AS Past, OSPath[-5] AS Before FROM scope()`,
			`[{"Drive":"C:","Name":"desktop.ini","User":"test","Past":null,"Before":null}]`, ""},
		{"a number is not a path's to add", `SELECT pathspec(parse="/a") + 1 AS n FROM scope()`, `[{"n":null}]`, ""},
	})
}

func TestSemverCompares(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"against version text",
			`SELECT semver(version="1.2.3") = "1.2.3" AS eq, semver(version="1.2.3") != "1.0.0" AS ne, semver(version="1.2.3") > "0.1.0" AS gt, semver(version="1.2.3") >= "0.1.0" AS ge, semver(version="1.2.3") < "2.0.0" AS lt, semver(version="1.2.3") <= "2.0.0" AS le, "2.0.0" > semver(version="1.2.3") AS rev FROM scope()`,
			`[{"eq":true,"ne":true,"gt":true,"ge":true,"lt":true,"le":true,"rev":true}]`, ""},
		{"against another version",
			`SELECT semver(version="1.2.3") = semver(version="v1.2.3") AS eq, semver(version="1.2.3") < semver(version="1.10.0") AS numeric, semver(version="1.2.3") > semver(version="1.2.3-rc1") AS release FROM scope()`,
			`[{"eq":true,"numeric":true,"release":true}]`, ""},
		{"partial versions",
			`SELECT semver(version="1.0.0") = "1" AS a, semver(version="1.1") = "1.1" AS b, semver(version="1") != "1.0.1" AS c, semver(version="2.5.1") >= "2.5" AS d, semver(version="2.5") < "3.0" AS e FROM scope()`,
			`[{"a":true,"b":true,"c":true,"d":true,"e":true}]`, ""},
		{"pre-release precedence",
			`SELECT semver(version="1.0.0-alpha") < "1.0.0-alpha.1" AS a, semver(version="1.0.0-alpha.1") < "1.0.0-alpha.beta" AS b, semver(version="1.0.0-beta.2") < "1.0.0-beta.11" AS c, semver(version="1.0.0-rc.1") < "1.0.0" AS d FROM scope()`,
			`[{"a":true,"b":true,"c":true,"d":true}]`, ""},
		{"what is no version compares with nothing",
			`SELECT semver(version="1.0.0") = "" AS a, semver(version="1.0.0") = "invalid" AS b, semver(version="1.0.0") > "invalid" AS c, semver(version="1.0.0") < "invalid" AS d, semver(version="1.0.0") = 1 AS e FROM scope()`,
			`[{"a":false,"b":false,"c":false,"d":false,"e":false}]`, ""},
		{"members and SELECT * see its parts",
			`SELECT * FROM foreach(row=semver(version="v1.2.3-dev"))`,
			`[{"Major":1,"Minor":2,"Patch":3,"Prerelease":"dev","Version":"1.2.3-dev"}]`, ""},
	})
}
