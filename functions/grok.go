package functions

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// Grok expressions name regular expressions and compose them:
// %{NUMBER:port} matches a number and captures it as "port",
// %{NUMBER:port:int} also converts it, %{SPACE} matches without capturing
// (though captures inside a pattern's own definition still count:
// %{SYSLOGPROG} yields program and pid). No grok library is served to
// this project's module proxy, so the compiler is here and the base
// patterns are written afresh below — those Velociraptor's artifacts use
// and their building blocks.
var grokBase = map[string]string{
	"SPACE":             `\s*`,
	"NOTSPACE":          `\S+`,
	"WORD":              `\b\w+\b`,
	"DATA":              `.*?`,
	"GREEDYDATA":        `.*`,
	"INT":               `[+-]?[0-9]+`,
	"POSINT":            `\b[1-9][0-9]*\b`,
	"NONNEGINT":         `\b[0-9]+\b`,
	"BASE10NUM":         `[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)`,
	"NUMBER":            `%{BASE10NUM}`,
	"BASE16NUM":         `(?:0[xX])?[0-9A-Fa-f]+`,
	"QUOTEDSTRING":      `"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`,
	"UUID":              `[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}`,
	"USERNAME":          `[a-zA-Z0-9._-]+`,
	"USER":              `%{USERNAME}`,
	"EMAILADDRESS":      `[a-zA-Z0-9!#$%&'*+/=?^_{|}~.-]+@%{HOSTNAME}`,
	"MAC":               `(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4}`,
	"IPV4":              `(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])`,
	"IPV6":              `(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|%{IPV4})?(?:%[0-9A-Za-z]+)?`,
	"IP":                `%{IPV6}|%{IPV4}`,
	"HOSTNAME":          `\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*\.?\b`,
	"IPORHOST":          `%{IP}|%{HOSTNAME}`,
	"HOSTPORT":          `%{IPORHOST}:%{POSINT}`,
	"PATH":              `(?:/[^\s]*)+|(?:[A-Za-z]+:|\\)(?:\\[^\\?*\s]*)+`,
	"URIPROTO":          `[A-Za-z][A-Za-z0-9+.-]+`,
	"URIPATH":           `(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+`,
	"URIPARAM":          `\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*`,
	"URIPATHPARAM":      `%{URIPATH}(?:%{URIPARAM})?`,
	"URI":               `%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{IPORHOST}(?::%{POSINT})?)?(?:%{URIPATHPARAM})?`,
	"MONTH":             `\b(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|[Mm]ay|[Jj]un(?:e)?|[Jj]ul(?:y)?|[Aa]ug(?:ust)?|[Ss]ep(?:tember)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)\b`,
	"MONTHNUM":          `0?[1-9]|1[0-2]`,
	"MONTHDAY":          `(?:0[1-9]|[12][0-9]|3[01]|[1-9])`,
	"DAY":               `(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)`,
	"YEAR":              `[0-9]{4}|[0-9]{2}`,
	"HOUR":              `2[0123]|[01]?[0-9]`,
	"MINUTE":            `[0-5][0-9]`,
	"SECOND":            `(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?`,
	"TIME":              `%{HOUR}:%{MINUTE}(?::%{SECOND})?`,
	"ISO8601_TIMEZONE":  `Z|[+-]%{HOUR}(?::?%{MINUTE})?`,
	"TIMESTAMP_ISO8601": `%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?`,
	"DATE_US":           `%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}`,
	"DATE_EU":           `%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}`,
	"SYSLOGTIMESTAMP":   `%{MONTH} +%{MONTHDAY} %{TIME}`,
	"PROG":              `[\x21-\x5a\x5c\x5e-\x7e]+`,
	"SYSLOGPROG":        `%{PROG:program}(?:\[%{POSINT:pid}\])?`,
	"SYSLOGHOST":        `%{IPORHOST}`,
	"SYSLOGFACILITY":    `<%{NONNEGINT:facility}\.%{NONNEGINT:priority}>`,
	"HTTPDATE":          `%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}`,
	"LOGLEVEL":          `[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo|INFO|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?`,
}

var grokRef = regexp.MustCompile(`%\{(\w+)(?::([\w.@\[\]-]+))?(?::(int|float|string))?\}`)

// grokExpr is a compiled grok expression: the regex, and for each of its
// groups (named gN) the capture name and conversion.
type grokExpr struct {
	re       *regexp.Regexp
	names    map[string]string
	convs    map[string]string
	captures []string
}

// grokCache keeps compiled expressions (keyed by expression and extra
// patterns): artifacts grok every line of a log with one expression.
var grokCache sync.Map

func compileGrok(expr string, extra map[string]string, cacheKey string) (*grokExpr, error) {
	if g, ok := grokCache.Load(cacheKey); ok {
		return g.(*grokExpr), nil
	}
	g := &grokExpr{names: map[string]string{}, convs: map[string]string{}}
	text, err := g.expand(expr, extra, 0)
	if err != nil {
		return nil, err
	}
	if g.re, err = regexp.Compile(text); err != nil {
		return nil, err
	}
	grokCache.Store(cacheKey, g)
	return g, nil
}

// expand replaces every %{…} reference, recursively.
func (g *grokExpr) expand(expr string, extra map[string]string, depth int) (string, error) {
	if depth > 50 {
		return "", fmt.Errorf("patterns nest deeper than 50 (a pattern refers to itself?)")
	}
	var failure error
	out := grokRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := grokRef.FindStringSubmatch(ref)
		def, ok := extra[m[1]]
		if !ok {
			def, ok = grokBase[m[1]]
		}
		if !ok {
			failure = fmt.Errorf("no pattern named %s", m[1])
			return ""
		}
		inner, err := g.expand(def, extra, depth+1)
		if err != nil {
			failure = err
			return ""
		}
		if m[2] == "" {
			return "(?:" + inner + ")"
		}
		group := "g" + strconv.Itoa(len(g.captures))
		g.captures = append(g.captures, group)
		g.names[group], g.convs[group] = m[2], m[3]
		return "(?P<" + group + ">" + inner + ")"
	})
	return out, failure
}

// match returns the captures of the first match, or nil.
func (g *grokExpr) match(s string) *ordereddict.Dict {
	loc := g.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return nil
	}
	out := ordereddict.NewDict()
	for i, group := range g.re.SubexpNames() {
		name, ok := g.names[group]
		if !ok || loc[2*i] < 0 {
			continue
		}
		var v any = s[loc[2*i]:loc[2*i+1]]
		switch g.convs[group] {
		case "int":
			if n, err := strconv.ParseInt(v.(string), 10, 64); err == nil {
				v = n
			} else if f, err := strconv.ParseFloat(v.(string), 64); err == nil {
				v = int64(f)
			}
		case "float":
			if f, err := strconv.ParseFloat(v.(string), 64); err == nil {
				v = f
			}
		}
		out.Set(name, v)
	}
	return out
}

// Grok parses a line with grok expressions.
var Grok = fn("grok", "A dict of what the first matching grok expression captures in data (%{PATTERN:name[:int|float]}); NULL when none matches.",
	[]vql.ArgSpec{
		arg("grok", vql.TypeList, true, "A grok expression, or a list tried in order."),
		arg("data", vql.TypeString, true, "The text to parse."),
		arg("patterns", vql.TypeDict, false, "More named patterns (name → grok expression)."),
		arg("all_captures", vql.TypeBool, false, "Accepted for compatibility: only named captures are returned."),
	}, func(c call) any {
		exprs, data := c.args.Strings("grok"), c.args.String("data", "")
		extraV := c.scope.Materialize(c.ctx, c.args.Value("patterns"))
		if c.args.Failed() {
			return nil
		}
		extra := map[string]string{}
		var key strings.Builder
		for _, k := range value.Keys(extraV) {
			v, _ := value.Member(extraV, k)
			extra[k] = toString(v)
			fmt.Fprintf(&key, "%q=%q;", k, extra[k])
		}
		for _, e := range exprs {
			g, err := compileGrok(e, extra, key.String()+e)
			if err != nil {
				c.scope.Errorf("grok: %q: %v", e, err)
				return nil
			}
			if d := g.match(data); d != nil {
				return d
			}
		}
		return nil
	})
