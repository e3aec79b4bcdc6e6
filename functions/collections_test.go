package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestCollections(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"to_dict from items rows", `SELECT to_dict(item={SELECT * FROM items(item=dict(a=1, b=2))}) AS d FROM scope()`, `[{"d":{"a":1,"b":2}}]`, ""},
		{"to_dict from a list", `SELECT to_dict(item=[dict(_key="x", _value=1), dict(_key=2, _value="y"), dict(other=1)]) AS d, to_dict(item=dict(a=1)) AS same FROM scope()`,
			`[{"d":{"x":1,"2":"y"},"same":{"a":1}}]`, ""},
		{"items function", `SELECT items(item=dict(a=1, b="x")) AS d, items(item=["p", "q"]) AS l FROM scope()`,
			`[{"d":[{"_key":"a","_value":1},{"_key":"b","_value":"x"}],"l":[{"_key":0,"_value":"p"},{"_key":1,"_value":"q"}]}]`, ""},
		{"set changes in place", `LET State <= dict(installed=FALSE) LET Set <= set(item=State, field="installed", value=TRUE) SELECT Set AS r, State AS s FROM scope()`,
			`[{"r":{"installed":true},"s":{"installed":true}}]`, ""},
		{"set on a non-dict", `SELECT set(item=1, field="a", value=2) AS r FROM scope()`, `[{"r":null}]`, "set: Field item should be a dict not int"},
		{"filter by regex", `SELECT filter(list=["a.exe", "b.dll", "c.EXE"], regex=".exe$") AS f, filter(list=split(sep='\\s+', string=" x  y"), regex='.+') AS g FROM scope()`,
			`[{"f":["a.exe","c.EXE"],"g":["x","y"]}]`, ""},
		{"filter by condition", `SELECT filter(list=[dict(p=TRUE), dict(p=FALSE), dict(p=TRUE)], condition="x=>x.p") AS f, filter(list=[1, 5, 10], condition="x => x > 3") AS g FROM scope()`,
			`[{"f":[{"p":true},{"p":true}],"g":[5,10]}]`, ""},
		{"filter of a single value", `SELECT filter(list="abc", regex="b") AS f, filter(list=NULL, regex="b") AS g FROM scope()`, `[{"f":["abc"],"g":[]}]`, ""},
		{"all and any", `SELECT all(items=[1, 2, 3], filter="x=>x > 0") AS a, all(items=[1, 0], filter="x=>x > 0") AS b, any(items=[0, 5], filter="x=>x > 3") AS c, any(items=["a", "b"], regex="^c") AS d, all(items=[]) AS e, any(items=[]) AS f, all(items={SELECT _value FROM range(end=3)}, filter="x=>x._value < 3") AS g FROM scope()`,
			`[{"a":true,"b":false,"c":true,"d":false,"e":true,"f":false,"g":true}]`, ""},
		{"slice", `SELECT slice(list=[1, 2, 3, 4], start=1, end=3) AS a, slice(list=[1, 2, 3], start=-2) AS b, slice(list=[1, 2], end=10) AS c FROM scope()`,
			`[{"a":[2,3],"b":[2,3],"c":[1,2]}]`, ""},
	})
}

func TestMeta(t *testing.T) {
	vqltest.Run(t, []vqltest.Case{
		{"version", `SELECT version(function="basename") AS f, version(plugin="range") AS p, version(plugin="glob") AS g, version(function="nope") AS n, version(accessor="file") AS a, version(accessor="ntfs") AS x FROM scope()`,
			`[{"f":1,"p":1,"g":1,"n":null,"a":1,"x":null}]`, ""},
		{"typeof", `SELECT typeof(a="x") AS s, typeof(a=1) AS i, typeof(a=1.5) AS f, typeof(a=[1, 2]) AS l, typeof(a=dict()) AS d, typeof(a=NULL) AS n FROM scope()`,
			`[{"s":"string","i":"int","f":"float","l":"list","d":"dict","n":"null"}]`, ""},
		{"uuid shape", `SELECT uuid() =~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS ok, uuid() != uuid() AS fresh FROM scope()`,
			`[{"ok":true,"fresh":true}]`, ""},
		{"eval", `LET Variable = "Hello" SELECT eval(func="x=>x.Variable") AS a, eval(func="x=>x + ' world'", args=Variable) AS b FROM scope()`,
			`[{"a":"Hello","b":"Hello world"}]`, ""},
	})
}
