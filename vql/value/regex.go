package value

import (
	"fmt"
	"regexp"
	"time"

	"github.com/Velocidex/ordereddict"
)

// regexCacheSize bounds the patterns kept compiled: patterns come from
// queries and rows, so an unbounded cache would grow with every distinct
// pattern a long-running server ever saw.
const regexCacheSize = 512

var regexCache = newRegexCache(regexCacheSize)

// CompileRegex compiles a VQL pattern: case-insensitive, cached because the
// same pattern is applied to every row.
func CompileRegex(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.get(pattern); ok {
		return re, nil
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, err
	}
	regexCache.put(pattern, re)
	return re, nil
}

func newRegexCache(size int) *boundedCache[*regexp.Regexp] {
	return newBoundedCache[*regexp.Regexp](size)
}

// matchesAll lists patterns that match anything, NULL included, as vfilter
// treats them.
func matchesAll(p string) bool { return p == "" || p == "." || p == ".*" }

// RegexMatch is `v =~ pattern`. A string matches its pattern; a list
// matches when any element does; a number, a time (RFC 3339, see
// TimeText) and a dict or map (its JSON, as Velociraptor's dict protocol
// serialises it) match their text; NULL matches only the match-all
// patterns. A bad pattern is an error for the caller to log.
func RegexMatch(v, pattern any) (bool, error) { return Operators{}.RegexMatch(v, pattern) }

// RegexMatch is `=~` with o's protocols: vfilter's core does not read a
// dict or a time as text.
func (o Operators) RegexMatch(v, pattern any) (bool, error) {
	p, ok := pattern.(string)
	if !ok {
		return false, nil
	}
	if matchesAll(p) {
		return true, nil
	}
	re, err := CompileRegex(p)
	if err != nil {
		return false, fmt.Errorf("invalid regular expression %q: %w", p, err)
	}
	return o.regexMatch(re, v), nil
}

func (o Operators) regexMatch(re *regexp.Regexp, v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return re.MatchString(t)
	case []byte:
		return re.Match(t)
	case time.Time:
		return !o.VfilterCore && re.MatchString(TimeText(t))
	case *ordereddict.Dict, map[string]any:
		if o.VfilterCore {
			return false
		}
		text, err := EncodeJSON(t)
		return err == nil && re.Match(text)
	}
	if l, ok := AsList(v); ok {
		for _, e := range l {
			if o.regexMatch(re, e) {
				return true
			}
		}
		return false
	}
	if _, ok := ToNumber(v); ok {
		return re.MatchString(fmt.Sprint(v))
	}
	return false
}
