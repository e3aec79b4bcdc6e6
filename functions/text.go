package functions

import (
	"strings"
	"unicode"

	"github.com/vqlq/vqlq/vql"
)

// Strip trims whitespace, or a given prefix and suffix.
var Strip = fn("strip", "The string without the given prefix and suffix, or without surrounding whitespace when neither is given.",
	[]vql.ArgSpec{
		arg("string", vql.TypeString, true, "The string."),
		arg("prefix", vql.TypeString, false, "A prefix to remove."),
		arg("suffix", vql.TypeString, false, "A suffix to remove."),
	}, func(c call) any {
		s, prefix, suffix := c.args.String("string", ""), c.args.String("prefix", ""), c.args.String("suffix", "")
		if c.args.Failed() {
			return nil
		}
		if prefix == "" && suffix == "" {
			return strings.TrimSpace(s)
		}
		return strings.TrimSuffix(strings.TrimPrefix(s, prefix), suffix)
	})

// Substr is a part of a string, by character index: start included, end
// excluded; bounds are clamped.
var Substr = fn("substr", "The characters of str from start up to (not including) end.",
	[]vql.ArgSpec{
		arg("str", vql.TypeString, true, "The string."),
		arg("start", vql.TypeInt, false, "First character (default 0)."),
		arg("end", vql.TypeInt, false, "Stop before this character (default: the end)."),
	}, func(c call) any {
		r := []rune(c.args.String("str", ""))
		start, end := c.args.Int("start", 0), c.args.Int("end", int64(len(r)))
		if c.args.Failed() {
			return nil
		}
		start = max(0, min(start, int64(len(r))))
		end = max(start, min(end, int64(len(r))))
		return string(r[start:end])
	})

// CommandlineSplit splits a command line into its arguments: by Windows
// rules (CommandLineToArgvW) by default, by POSIX shell rules with
// bash_style.
var CommandlineSplit = fn("commandline_split", "The arguments of a command line (Windows quoting rules, or shell rules with bash_style).",
	[]vql.ArgSpec{
		arg("command", vql.TypeString, true, "The command line."),
		arg("bash_style", vql.TypeBool, false, "Split by POSIX shell quoting rules instead of Windows ones."),
	}, func(c call) any {
		cmd, bash := c.args.String("command", ""), c.args.Bool("bash_style", false)
		if c.args.Failed() {
			return nil
		}
		if bash {
			return toAnyList(splitShell(cmd))
		}
		return toAnyList(splitWindows(cmd))
	})

// splitWindows follows CommandLineToArgvW: 2n backslashes before a quote
// are n backslashes and the quote toggles quoting; 2n+1 are n and a
// literal quote; other backslashes are literal.
func splitWindows(s string) []string {
	out := []string{}
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
				} else {
					inQuote = !inQuote
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i--
			}
			have = true
		case ch == '"':
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				i++
			} else {
				inQuote = !inQuote
			}
			have = true
		case (ch == ' ' || ch == '\t') && !inQuote:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(ch)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// splitShell splits by POSIX shell words: single quotes are literal,
// double quotes allow backslash escapes, a backslash outside quotes
// escapes the next character.
func splitShell(s string) []string {
	out := []string{}
	var cur strings.Builder
	have := false
	var quote rune
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		ch := runes[i]
		switch {
		case quote == '\'':
			if ch == '\'' {
				quote = 0
			} else {
				cur.WriteRune(ch)
			}
		case quote == '"':
			if ch == '"' {
				quote = 0
			} else if ch == '\\' && i+1 < len(runes) && strings.ContainsRune(`"\$`+"`", runes[i+1]) {
				i++
				cur.WriteRune(runes[i])
			} else {
				cur.WriteRune(ch)
			}
		case ch == '\'' || ch == '"':
			quote, have = ch, true
		case ch == '\\' && i+1 < len(runes):
			i++
			cur.WriteRune(runes[i])
			have = true
		case unicode.IsSpace(ch):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(ch)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}
