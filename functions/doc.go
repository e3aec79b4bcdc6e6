// Package functions holds the built-in VQL functions named in
// spec/vql.md. Register adds them all to an engine.
package functions

import (
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/vql"
)

// All returns every built-in function.
func All() []vql.Function {
	return []vql.Function{
		Dict, If, Format, Split, Get, Len, Encode, Timestamp, TimestampFormat, Now, Scope,
		Count, Sum, Min, Max, Enumerate, Str, Int, Upcase, Lowcase, Join,
		RegexReplace, ParseJSON, Serialize, Array, Log, Sleep,
		HTTPClient,
		// paths.go
		Basename, Dirname, PathSplit, PathJoin, Relpath, Pathspec,
		// encoding.go
		Base64Encode, Base64Decode, Unhex, Xor, Rot13, UTF16, UTF16Encode, Gzip, Gunzip,
		// text.go, regex.go, numbers.go
		Strip, Substr, CommandlineSplit, ParseStringWithRegex, RegexTransform,
		Atoi, ParseFloat, Entropy, Rand, Humanize,
		// collections.go, meta.go
		ToDict, ItemsFn, Set, Filter, AllOf, AnyOf, Slice, Version, Typeof, UUID, Eval,
		// parse.go
		ParseJSONArray, ParseYAML, ParseXML,
		// cache.go
		LRUFn, Cache, Memoize,
		// network.go
		URLFn, IPFn, CIDRContains, GeoIP,
		// grok.go
		Grok,
		// template.go, semver.go, sigma.go, x509.go
		Template, Semver, SigmaLogSources, Similarity, Rate, ParseX509, ParsePKCS7,
		// files.go
		ReadFile, PipeFn, Hash,
		// binary.go
		ParseBinary,
		// plugins/generate.go: a function that returns a query
		plugins.Generate,
	}
}

// Files returns the functions that read, write and remove the host's
// files and store uploads.
func Files() []vql.Function {
	return []vql.Function{Tempfile, Tempdir, Copy, Rm, Expand, Upload, UploadDirectory, StatFn}
}

// Register adds every built-in function, Files', and Plugins, to e.
func Register(e *vql.Engine) {
	for _, f := range append(All(), Files()...) {
		e.AddFunction(f)
	}
	for _, p := range Plugins() {
		e.AddPlugin(p)
	}
}

// fn is shorthand for declaring a function.
func fn(name, doc string, args []vql.ArgSpec, body func(c call) any) vql.FunctionFunc {
	return vql.FunctionFunc{
		Meta: vql.Info{Name: name, Doc: doc, Args: args},
		Fn: func(ctx ctxT, scope *vql.Scope, a *vql.Args) any {
			return body(call{ctx: ctx, scope: scope, args: a, fname: name})
		},
	}
}

// needs declares the permissions a function's caller must hold.
func needs(f vql.FunctionFunc, perms ...vql.Permission) vql.FunctionFunc {
	f.Meta.Permissions = perms
	return f
}

func arg(name string, t vql.ArgType, required bool, doc string) vql.ArgSpec {
	return vql.ArgSpec{Name: name, Type: t, Required: required, Doc: doc}
}
