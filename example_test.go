package vqlq_test

import (
	"context"
	"fmt"
	"iter"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/parser"
)

// A host program embeds the engine: it adds a plugin, a function and a
// variable of its own, runs a program under a context, and receives rows
// and log messages as they are produced.
func Example() {
	engine := vqlq.NewEngine()

	// A plugin: rows of users known to the host.
	engine.AddPlugin(vql.PluginFunc{
		Meta: vql.Info{Name: "users", Doc: "Users known to the host.",
			Args: []vql.ArgSpec{{Name: "min_uid", Type: vql.TypeInt, Doc: "Skip users below this uid."}}},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			minUID := args.Int("min_uid", 0)
			return func(yield func(vql.Row) bool) {
				for uid, name := range []string{"root", "daemon", "alice"} {
					if int64(uid) >= minUID && !yield(ordereddict.NewDict().Set("Name", name).Set("Uid", uid)) {
						return
					}
				}
			}
		},
	})
	// A function, and a Go struct as a variable: its exported fields are
	// members.
	engine.AddFunction(vql.FunctionFunc{
		Meta: vql.Info{Name: "greet", Args: []vql.ArgSpec{{Name: "who", Type: vql.TypeString, Required: true}}},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) any {
			return "hello " + args.String("who", "")
		},
	})
	engine.SetVar("Host", struct{ Hostname string }{"web-1"})

	session := engine.NewSession(vql.SessionOptions{
		OnLog: func(m vql.Message) { fmt.Println("log:", m) },
	})
	prog, err := parser.Parse(`
		SELECT greet(who=Name) AS Greeting, Host.Hostname AS Host FROM users(min_uid=1)
		SELECT * FROM userz()`, "example.vql")
	if err != nil {
		fmt.Println(err)
		return
	}
	for result := range session.Run(context.Background(), prog) {
		b, _ := result.Row.MarshalJSON()
		fmt.Println(result.Statement, string(b))
	}
	// Output:
	// 0 {"Greeting":"hello daemon","Host":"web-1"}
	// 0 {"Greeting":"hello alice","Host":"web-1"}
	// log: ERROR:Plugin userz not found. Did you mean users?
}
