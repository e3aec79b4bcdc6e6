package conformance

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// methodCalls counts calls of ObjectWithMethods.Value2 across a case.
var methodCalls atomic.Int64

// counterValue backs the process-wide counter() fixture.
var counterValue atomic.Int64

// ObjectWithMethods exposes fields and methods to VQL through reflection.
type ObjectWithMethods struct {
	Value1       int
	IgnoredValue int `json:"-"`
}

// Value2 is a method read as a member; each read counts.
func (o ObjectWithMethods) Value2() string {
	n := methodCalls.Add(1)
	return fmt.Sprintf("I am a method, called %d", n)
}

// Counter reports how often Value2 was read.
func (o ObjectWithMethods) Counter() int { return int(methodCalls.Load()) }

// structValue is the StructValue fixture: a field with a json tag.
type structValue struct {
	SrcIP string `json:"src_ip"`
}

// fixture builds a fresh engine and session with the corpus's fixture
// environment. panicked is set when the panic() fixture fires: the case
// fails even though the engine recovers and carries on.
type fixture struct {
	session  *vql.Session
	panicked atomic.Bool
	mu       sync.Mutex
	logs     []string
}

func rowsOf(rows ...*ordereddict.Dict) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}
}

func newFixture() *fixture {
	f := &fixture{}
	e := vqlq.NewEngine()
	// The corpus is vfilter's: its operators without the protocols
	// Velociraptor (and so vqlq) adds on top.
	e.UseVfilterCore()
	plugin := func(name string, fn func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row]) {
		e.AddPlugin(vql.PluginFunc{Meta: vql.Info{Name: name, FreeArgs: true}, Fn: fn})
	}
	function := func(name string, fn func(ctx context.Context, s *vql.Scope, a *vql.Args) any) {
		e.AddFunction(vql.FunctionFunc{Meta: vql.Info{Name: name, FreeArgs: true}, Fn: fn})
	}
	declared := func(name string, args []string, fn func(ctx context.Context, s *vql.Scope, a *vql.Args) any) {
		info := vql.Info{Name: name}
		for _, a := range args {
			info.Args = append(info.Args, vql.ArgSpec{Name: a, Type: vql.TypeAny})
		}
		e.AddFunction(vql.FunctionFunc{Meta: info, Fn: fn})
	}
	plugin("test", func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
		var rows []*ordereddict.Dict
		for i := int64(0); i < 3; i++ {
			rows = append(rows, ordereddict.NewDict().Set("foo", i*2).Set("bar", i))
		}
		return rowsOf(rows...)
	})
	plugin("range", func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
		start, end := a.Int("start", 0), a.Int("end", 0)
		return func(yield func(vql.Row) bool) {
			for i := start; i <= end; i++ {
				if !yield(ordereddict.NewDict().Set("value", float64(i))) {
					return
				}
			}
		}
	})
	plugin("dict", func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
		return rowsOf(a.Dict())
	})
	plugin("groupbytest", func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
		row := func(foo, bar int64, baz string) *ordereddict.Dict {
			return ordereddict.NewDict().Set("foo", foo).Set("bar", bar).Set("baz", baz)
		}
		return rowsOf(row(1, 5, "a"), row(2, 5, "b"), row(3, 2, "c"), row(4, 2, "d"))
	})
	plugin("objectwithmethods", func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			_ = yield(ObjectWithMethods{Value1: 1}) && yield(ObjectWithMethods{Value1: 2})
		}
	})
	plugin("reset_objectwithmethods", func(ctx context.Context, s *vql.Scope, a *vql.Args) iter.Seq[vql.Row] {
		methodCalls.Store(0)
		return func(func(vql.Row) bool) {}
	})
	function("func_foo", func(ctx context.Context, s *vql.Scope, a *vql.Args) any {
		if v, ok := a.Get("return"); ok {
			return s.Resolve(ctx, v)
		}
		return int64(1)
	})
	function("counter", func(ctx context.Context, s *vql.Scope, a *vql.Args) any {
		return counterValue.Add(1)
	})
	env := ordereddict.NewDict()
	function("set_env", func(ctx context.Context, s *vql.Scope, a *vql.Args) any {
		col := a.String("column", "")
		env.Set(col, s.Materialize(ctx, a.Value("value")))
		return true
	})
	declared("panic", []string{"column", "value"}, func(ctx context.Context, s *vql.Scope, a *vql.Args) any {
		v := a.Value("value")
		if value.Equal(a.Value("column"), v) {
			f.panicked.Store(true)
			panic(fmt.Sprintf("panic fixture fired for value %v: laziness broken", v))
		}
		return v
	})
	vars := map[string]any{
		"const_foo":              int64(1),
		"three_int64":            int64(3),
		"my_list_obj":            ordereddict.NewDict().Set("my_list", []any{int64(1), int64(2), int64(3), ordereddict.NewDict().Set("Foo", "Bar")}),
		"env_var":                "EnvironmentData",
		"foo":                    ordereddict.NewDict().Set("bar", ordereddict.NewDict().Set("baz", int64(5))).Set("bar2", int64(7)),
		"ArrayValue":             [3]int{1, 2, 3},
		"StructValue":            structValue{SrcIP: "127.0.0.1"},
		"VarIsObjectWithMethods": ObjectWithMethods{Value1: 1},
	}
	for k, v := range vars {
		env.Set(k, v)
		e.SetVar(k, v)
	}
	e.SetVar("RootEnv", env)
	f.session = e.NewSession(vql.SessionOptions{OnLog: func(m vql.Message) {
		f.mu.Lock()
		f.logs = append(f.logs, m.String())
		f.mu.Unlock()
	}})
	return f
}
