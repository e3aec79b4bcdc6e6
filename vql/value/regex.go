package value

import (
	"fmt"
	"regexp"
	"sync"
)

var regexCache sync.Map // pattern -> *regexp.Regexp

// CompileRegex compiles a VQL pattern: case-insensitive, cached because the
// same pattern is applied to every row.
func CompileRegex(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, err
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// matchesAll lists patterns that match anything, NULL included, as vfilter
// treats them.
func matchesAll(p string) bool { return p == "" || p == "." || p == ".*" }

// RegexMatch is `v =~ pattern`. A string matches its pattern; a list
// matches when any element does; NULL matches only the match-all patterns.
// A bad pattern is an error for the caller to log.
func RegexMatch(v, pattern any) (bool, error) {
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
	return regexMatch(re, v), nil
}

func regexMatch(re *regexp.Regexp, v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return re.MatchString(t)
	case []byte:
		return re.Match(t)
	}
	if l, ok := AsList(v); ok {
		for _, e := range l {
			if regexMatch(re, e) {
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
