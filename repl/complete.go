package repl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql/parser"
)

// keywords offered by completion, in the order people type them.
var keywords = []string{"SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "AS", "LET",
	"AND", "OR", "NOT", "IN", "ASC", "DESC", "EXPLAIN", "TRUE", "FALSE", "NULL"}

// Complete returns the completions of the word before pos in line, as
// suffixes of that word, and the word's length (readline's convention).
// The context decides what is offered: plugin names after FROM, artifact
// names inside artifact='…' and after Artifact., accessor names inside
// accessor='…' (help() lists the same), argument names inside a
// call, otherwise keywords, functions and the session's LET names.
func (s *Shell) Complete(line string, pos int) ([]string, int) {
	before := line[:pos]
	if strings.HasPrefix(strings.TrimSpace(before), ".") && !strings.Contains(strings.TrimSpace(before), " ") {
		return matches(strings.TrimSpace(before), commandNames(), false)
	}
	if name, arg, ok := strings.Cut(strings.TrimLeft(before, " \t"), " "); ok && takesFile[name] {
		return completeFile(strings.TrimLeft(arg, " "))
	}
	// Inside a quoted artifact or accessor name?
	if q, word, ok := openQuote(before); ok {
		switch quotedArg(before[:q]) {
		case "artifact":
			return matches(word, s.artifactNames(), false)
		case "accessor":
			return matches(word, accessorNames(), false)
		}
		return nil, 0
	}
	word := lastWord(before)
	rest := strings.TrimRight(before[:len(before)-len(word)], " \t\n")
	if strings.HasPrefix(word, "Artifact.") {
		names := s.artifactNames()
		for i := range names {
			names[i] = "Artifact." + names[i]
		}
		return matches(word, names, false)
	}
	if strings.HasSuffix(strings.ToUpper(rest), "FROM") && (len(rest) == 4 || !isWordChar(rune(rest[len(rest)-5]))) {
		names := s.pluginNames()
		return matches(word, append(names, "Artifact."), false)
	}
	if callee, ok := argPosition(rest); ok {
		return matches(word, s.argNames(callee), false)
	}
	var names []string
	names = append(names, keywords...)
	names = append(names, s.functionNames()...)
	for n := range s.lets {
		names = append(names, n)
	}
	return matches(word, names, true)
}

// quotedArg is the argument name before `=` at the end of text (the text
// before an open quote), or "".
func quotedArg(text string) string {
	text = strings.TrimRight(text, " \t")
	if !strings.HasSuffix(text, "=") {
		return ""
	}
	return lastWord(strings.TrimRight(strings.TrimSuffix(text, "="), " \t"))
}

// accessorNames are the accessors a call can name.
func accessorNames() []string {
	var out []string
	for _, a := range accessors.All() {
		out = append(out, a.Name)
	}
	return out
}

// matches returns the names that extend word, as suffixes. Keywords follow
// the case the user is typing.
func matches(word string, names []string, keywordCase bool) ([]string, int) {
	lower := strings.ToLower(word)
	lowerTyping := word != "" && word == lower
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		cand := n
		if keywordCase && parser.IsKeyword(strings.Fields(n)[0]) {
			if !strings.HasPrefix(strings.ToLower(n), lower) {
				continue
			}
			if lowerTyping {
				cand = strings.ToLower(n)
			}
			cand = word + cand[len(word):]
		} else if !strings.HasPrefix(n, word) {
			continue
		}
		suffix := cand[len(word):]
		if seen[suffix] {
			continue
		}
		seen[suffix] = true
		out = append(out, suffix)
	}
	sort.Strings(out)
	return out, len([]rune(word))
}

func isWordChar(r rune) bool {
	return r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lastWord is the identifier (dots allowed) that ends text.
func lastWord(text string) string {
	i := len(text)
	for i > 0 && isWordChar(rune(text[i-1])) {
		i--
	}
	return text[i:]
}

// openQuote reports whether text ends inside a quoted string; it returns
// the offset of the opening quote and what follows it.
func openQuote(text string) (int, string, bool) {
	var quote byte
	start := -1
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote, start = c, i
		}
	}
	if quote == 0 {
		return 0, "", false
	}
	return start, text[start+1:], true
}

// argPosition reports whether text ends where an argument name goes — just
// after `name(` or after a comma inside it — and names the callee.
func argPosition(text string) (string, bool) {
	if !strings.HasSuffix(text, "(") && !strings.HasSuffix(text, ",") {
		return "", false
	}
	depth := 0
	for i := len(text) - 1; i >= 0; i-- {
		switch text[i] {
		case ')', ']', '}':
			depth++
		case '[', '{':
			if depth == 0 {
				return "", false
			}
			depth--
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			name := lastWord(strings.TrimRight(text[:i], " "))
			return name, name != ""
		}
	}
	return "", false
}

func (s *Shell) pluginNames() []string {
	var out []string
	for _, p := range s.engine.Plugins() {
		out = append(out, p.Name)
	}
	for n := range s.lets {
		out = append(out, n)
	}
	return out
}

func (s *Shell) functionNames() []string {
	var out []string
	for _, f := range s.engine.Functions() {
		out = append(out, f.Name)
	}
	return out
}

// argNames lists `name=` for each declared argument of a plugin or
// function (plugins first: `if` is both).
func (s *Shell) argNames(callee string) []string {
	var out []string
	for _, p := range s.engine.Plugins() {
		if p.Name == callee {
			for _, a := range p.Args {
				out = append(out, a.Name+"=")
			}
		}
	}
	for _, f := range s.engine.Functions() {
		if f.Name == callee {
			for _, a := range f.Args {
				out = append(out, a.Name+"=")
			}
		}
	}
	return out
}

// artifactNames lists the org's artifacts. A completion asks for them at
// every Tab; the list is kept for a few seconds so that repeated Tabs (and
// an attached session's round trips) do not query each time.
func (s *Shell) artifactNames() []string {
	if time.Since(s.artifactsAt) < artifactCacheTTL && s.artifactsOrg == s.org {
		return append([]string(nil), s.artifacts...)
	}
	var out []string
	for _, row := range s.collect(context.Background(), "SELECT name FROM artifact_definitions()") {
		if name, ok := row.Get("name"); ok {
			out = append(out, fmt.Sprint(name))
		}
	}
	s.artifacts, s.artifactsAt, s.artifactsOrg = out, time.Now(), s.org
	return append([]string(nil), out...)
}

const artifactCacheTTL = 5 * time.Second

// takesFile lists the commands whose argument is a file name.
var takesFile = map[string]bool{".load": true, ".read": true, `\i`: true, ".output": true, `\o`: true, ".once": true}

// completeFile offers the names in a folder that extend the last part of
// path (folders with a trailing /), as a shell does; hidden files only
// when the part starts with a dot.
func completeFile(path string) ([]string, int) {
	dir, base := filepath.Split(path)
	list := dir
	if list == "" {
		list = "."
	}
	entries, err := os.ReadDir(list)
	if err != nil {
		return nil, 0
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		out = append(out, name[len(base):])
	}
	sort.Strings(out)
	return out, len(base)
}
