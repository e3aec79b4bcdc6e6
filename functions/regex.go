package functions

import (
	"fmt"
	"regexp"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// compileAll compiles VQL regexes, logging the first that does not
// compile.
func compileAll(c call, patterns []string) ([]*regexp.Regexp, bool) {
	return plugins.CompileRegexes(c.scope, c.name(), patterns)
}

// ParseStringWithRegex extracts named groups into a dict.
var ParseStringWithRegex = fn("parse_string_with_regex", "A dict of the groups every regex matches in string: a named group (?P<name>…) by its name, another as g1, g2, … by its number (Velociraptor's names).",
	[]vql.ArgSpec{
		arg("string", vql.TypeString, true, "The string to parse."),
		arg("regex", vql.TypeList, true, "A regex or a list of them; each one's named groups become members."),
	}, func(c call) any {
		s, patterns := c.args.String("string", ""), c.args.Strings("regex")
		if c.args.Failed() {
			return nil
		}
		res, ok := compileAll(c, patterns)
		if !ok {
			return nil
		}
		out := ordereddict.NewDict()
		for _, re := range res {
			namedGroups(re, re.FindStringSubmatchIndex(s), s, out)
		}
		return out
	})

// namedGroups sets each group of a match (loc from
// FindStringSubmatchIndex) in out, an unnamed one as gN: artifacts read
// `parse_string_with_regex(regex='^name:\s*(.+)', …).g1`.
func namedGroups(re *regexp.Regexp, loc []int, s string, out *ordereddict.Dict) {
	if loc == nil {
		return
	}
	for i, name := range re.SubexpNames() {
		if i == 0 {
			continue
		}
		if name == "" {
			name = fmt.Sprintf("g%d", i)
		}
		if loc[2*i] >= 0 {
			out.Set(name, s[loc[2*i]:loc[2*i+1]])
		} else if _, ok := out.Get(name); !ok {
			out.Set(name, "")
		}
	}
}

// RegexTransform applies several replacements in turn.
var RegexTransform = fn("regex_transform", "The source with each regex of map replaced by its value ($1 refers to a group), in map's order.",
	[]vql.ArgSpec{
		arg("source", vql.TypeString, true, "The input string."),
		arg("map", vql.TypeDict, true, "Regex → replacement, applied in order."),
		arg("key", vql.TypeString, false, "Cache key for the compiled map (accepted; vqlq caches by pattern)."),
	}, func(c call) any {
		src := c.args.String("source", "")
		m := c.scope.Materialize(c.ctx, c.args.Value("map"))
		if c.args.Failed() {
			return nil
		}
		d, ok := m.(*ordereddict.Dict)
		if !ok {
			c.scope.Errorf("regex_transform: Field map should be a dict not %s", value.TypeName(m))
			return nil
		}
		for _, item := range d.Items() {
			re, err := value.CompileRegex(item.Key)
			if err != nil {
				c.scope.Errorf("regex_transform: %v", err)
				return nil
			}
			src = re.ReplaceAllString(src, toString(item.Value))
		}
		return src
	})

func anyMatch(res []*regexp.Regexp, s string) bool { return plugins.MatchAny(res, s) }
