package functions

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Format is Go's fmt.Sprintf with VQL values: format(format='%v: %d',
// args=[a, b]); a single non-list args is one argument.
var Format = fn("format", "Format values like printf: format(format='%s=%d', args=[name, n]).",
	[]vql.ArgSpec{
		arg("format", vql.TypeString, true, "The format string (Go fmt verbs)."),
		arg("args", vql.TypeAny, false, "One value or a list of values."),
	}, func(c call) any {
		f := c.args.String("format", "")
		if c.args.Failed() {
			return nil
		}
		var list []any
		if c.args.Has("args") {
			v := c.scope.Materialize(c.ctx, c.args.Value("args"))
			if l, ok := value.AsList(v); ok {
				list = l
			} else {
				list = []any{v}
			}
		}
		return fmt.Sprintf(f, list...)
	})

// Split splits a string on a regular expression separator.
var Split = fn("split", "Split string on the regular expression sep into a list.",
	[]vql.ArgSpec{
		arg("string", vql.TypeString, true, "The string to split."),
		arg("sep", vql.TypeString, true, "Separator (a regular expression)."),
	}, func(c call) any {
		s, sep := c.args.String("string", ""), c.args.String("sep", "")
		if c.args.Failed() {
			return nil
		}
		re, err := value.CompileRegex(sep)
		if err != nil {
			c.scope.Errorf("split: %v", err)
			return nil
		}
		return toAnyList(re.Split(s, -1))
	})

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// Join joins a list of strings with sep.
var Join = fn("join", "Join a list of strings with sep.",
	[]vql.ArgSpec{
		arg("array", vql.TypeList, true, "The strings to join."),
		arg("sep", vql.TypeString, false, "Separator (default empty)."),
	}, func(c call) any {
		sep := c.args.String("sep", "")
		l, ok := value.AsList(c.scope.Materialize(c.ctx, c.args.Value("array")))
		if !ok || c.args.Failed() {
			if !ok {
				c.scope.Errorf("join: Field array should be a list")
			}
			return nil
		}
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = toString(e)
		}
		return strings.Join(parts, sep)
	})

// Upcase upper-cases a string.
var Upcase = fn("upcase", "The string in upper case.",
	[]vql.ArgSpec{arg("string", vql.TypeString, true, "The string.")},
	func(c call) any {
		s := c.args.String("string", "")
		if c.args.Failed() {
			return nil
		}
		return strings.ToUpper(s)
	})

// Lowcase lower-cases a string.
var Lowcase = fn("lowcase", "The string in lower case.",
	[]vql.ArgSpec{arg("string", vql.TypeString, true, "The string.")},
	func(c call) any {
		s := c.args.String("string", "")
		if c.args.Failed() {
			return nil
		}
		return strings.ToLower(s)
	})

// RegexReplace replaces every match of re in source.
var RegexReplace = fn("regex_replace", "Replace every match of re in source with replace ($1 refers to a group).",
	[]vql.ArgSpec{
		arg("source", vql.TypeString, true, "The input string."),
		arg("re", vql.TypeString, true, "The regular expression (case-insensitive)."),
		arg("replace", vql.TypeString, false, "The replacement (default empty)."),
		arg("replace_lambda", vql.TypeString, false, "A lambda (x => …) called with each match; its result replaces the match."),
	}, func(c call) any {
		src, re, repl := c.args.String("source", ""), c.args.String("re", ""), c.args.String("replace", "")
		if c.args.Failed() {
			return nil
		}
		r, err := value.CompileRegex(re)
		if err != nil {
			c.scope.Errorf("regex_replace: %v", err)
			return nil
		}
		if c.args.Has("replace_lambda") {
			l, ok := lambdaArg(c, "replace_lambda")
			if !ok {
				return nil
			}
			return r.ReplaceAllStringFunc(src, func(m string) string { return toString(l.call(c, m)) })
		}
		return r.ReplaceAllString(src, repl)
	})

// Str converts any value to a string.
var Str = fn("str", "The value as a string (numbers in decimal, other values as JSON).",
	[]vql.ArgSpec{arg("str", vql.TypeAny, true, "The value.")},
	func(c call) any { return toString(c.scope.Materialize(c.ctx, c.args.Value("str"))) })

func toString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []byte:
		return string(t)
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	if n, ok := value.ToNumber(v); ok {
		if n.IsFloat {
			return strconv.FormatFloat(n.Float, 'f', -1, 64)
		}
		return strconv.FormatInt(n.Int, 10)
	}
	b, err := jsonMarshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Int converts a number, numeric string or boolean to an integer.
var Int = fn("int", "The value as an integer (strings are parsed, floats truncated); NULL when impossible.",
	[]vql.ArgSpec{arg("int", vql.TypeAny, true, "The value.")},
	func(c call) any {
		v := c.args.Value("int")
		switch t := v.(type) {
		case string:
			t = strings.TrimSpace(t)
			if i, err := strconv.ParseInt(t, 0, 64); err == nil {
				return i
			}
			if f, err := strconv.ParseFloat(t, 64); err == nil {
				return int64(f)
			}
			return nil
		case bool:
			if t {
				return int64(1)
			}
			return int64(0)
		}
		if i, ok := value.ToInt64(v); ok {
			return i
		}
		return nil
	})

// Encode encodes a string as hex or base64.
var Encode = fn("encode", "Encode string as type: hex, base64 or base64url.",
	[]vql.ArgSpec{
		arg("string", vql.TypeString, true, "The data to encode."),
		arg("type", vql.TypeString, false, "hex (default), base64 or base64url."),
	}, func(c call) any {
		s, typ := c.args.String("string", ""), c.args.String("type", "hex")
		if c.args.Failed() {
			return nil
		}
		switch strings.ToLower(typ) {
		case "hex":
			return hex.EncodeToString([]byte(s))
		case "base64":
			return base64.StdEncoding.EncodeToString([]byte(s))
		case "base64url":
			return base64.URLEncoding.EncodeToString([]byte(s))
		}
		c.scope.Errorf("encode: unknown type %q (use hex, base64 or base64url)", typ)
		return nil
	})
