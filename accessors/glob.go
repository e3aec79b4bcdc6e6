package accessors

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/vql"
)

// Globs are matched as Velociraptor matches them: a pattern is split into
// components at / or \, each matched case-insensitively against one
// directory level (*, ? and [a-z] within a component; {a,b} expanded
// first), and `**` matches any number of levels, at most 30 (`**5`:
// at most 5). Every pattern walks the same tree, so each directory is
// listed once however many patterns reach it.

// defaultRecursion is how deep a `**` goes when it names no depth.
const defaultRecursion = 30

// maxBraceExpansions bounds {a,b}{c,d}… so that a pattern cannot expand
// without limit.
const maxBraceExpansions = 4096

// Glob is the compiled form of glob()'s patterns.
type Glob struct {
	patterns []pattern
}

type pattern struct {
	text       string // its components joined by /, for the Globs column
	components []component
}

type component struct {
	text      string // lowercased
	recursive bool
	depth     int
}

// CompileGlobs expands and splits every pattern; a malformed one is an
// error naming it.
func CompileGlobs(globs []string) (*Glob, error) {
	g := &Glob{}
	for _, text := range globs {
		expanded, err := expandBraces(text)
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", text, err)
		}
		for _, e := range expanded {
			parts := splitComponents(e, `/\`)
			p := pattern{text: strings.Join(parts, "/")}
			for _, c := range parts {
				comp, err := compileComponent(c)
				if err != nil {
					return nil, fmt.Errorf("glob %q: %w", text, err)
				}
				p.components = append(p.components, comp)
			}
			if len(p.components) > 0 {
				g.patterns = append(g.patterns, p)
			}
		}
	}
	return g, nil
}

func compileComponent(c string) (component, error) {
	if strings.HasPrefix(c, "**") {
		if c == "**" {
			return component{recursive: true, depth: defaultRecursion}, nil
		}
		if n, err := strconv.Atoi(c[2:]); err == nil && n > 0 {
			return component{recursive: true, depth: n}, nil
		}
	}
	lower := strings.ToLower(c)
	if _, err := path.Match(lower, ""); err != nil {
		return component{}, fmt.Errorf("bad pattern %q: %w", c, err)
	}
	return component{text: lower}, nil
}

// expandBraces turns `a{b,c}d` into abd and acd, innermost braces
// included; an unclosed brace is taken literally.
func expandBraces(s string) ([]string, error) {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		return []string{s}, nil
	}
	depth, close := 0, -1
	var commas []int
	for i := open; i < len(s) && close < 0; i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				close = i
			}
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
	}
	if close < 0 {
		return []string{s}, nil
	}
	rests, err := expandBraces(s[close+1:])
	if err != nil {
		return nil, err
	}
	var out []string
	start := open + 1
	for _, end := range append(commas, close) {
		alts, err := expandBraces(s[start:end])
		if err != nil {
			return nil, err
		}
		for _, a := range alts {
			for _, r := range rests {
				out = append(out, s[:open]+a+r)
				if len(out) > maxBraceExpansions {
					return nil, fmt.Errorf("expands to more than %d patterns", maxBraceExpansions)
				}
			}
		}
		start = end + 1
	}
	return out, nil
}

// state is how far one pattern has come: the component it matches
// next, and how many levels the `**` it is in has used.
type state struct {
	pattern, index, used int
}

// WalkOptions are glob()'s switches.
type WalkOptions struct {
	// NoSymlink does not descend into links to directories.
	NoSymlink bool
	// Descend, when set, is asked before a directory is entered for a
	// `**` (glob's recursion_callback).
	Descend func(*FileInfo) bool
}

// Walk lists what the patterns match under root through the accessor:
// each file once, with the patterns that matched it in Globs, in
// directory order (sorted by name) depth first. A directory that cannot
// be read is logged at DEBUG and skipped, as a glob over / meets many.
func (g *Glob) Walk(ctx context.Context, scope *vql.Scope, a Accessor, root any, opts WalkOptions) iter.Seq[*FileInfo] {
	var start []state
	for i := range g.patterns {
		start = append(start, state{pattern: i})
	}
	return func(yield func(*FileInfo) bool) {
		g.walk(ctx, scope, a, root, g.closure(start), opts, yield)
	}
}

// closure adds, for each state at a `**`, the state past it: `**` also
// matches no level at all.
func (g *Glob) closure(states []state) []state {
	for i := 0; i < len(states); i++ {
		s := states[i]
		comps := g.patterns[s.pattern].components
		if s.index < len(comps) && comps[s.index].recursive {
			states = append(states, state{pattern: s.pattern, index: s.index + 1})
		}
	}
	return states
}

func (g *Glob) walk(ctx context.Context, scope *vql.Scope, a Accessor, dir any, states []state, opts WalkOptions, yield func(*FileInfo) bool) bool {
	if a.ReadDir == nil {
		scope.Errorf("glob: the %s accessor lists no directories", a.Name)
		return false
	}
	entries, err := a.ReadDir(ctx, scope, dir)
	if err != nil && !errors.Is(err, context.Canceled) {
		scope.Log(vql.LevelDebug, "glob: %s: %v", pathText(dir), err)
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return false
		}
		var next []state
		var matched []string
		for _, s := range states {
			p := g.patterns[s.pattern]
			if s.index >= len(p.components) {
				continue
			}
			c := p.components[s.index]
			last := s.index == len(p.components)-1
			switch {
			case c.recursive:
				// The entry is s.used+1 levels below where the ** began.
				if s.used >= c.depth {
					continue
				}
				// Past a trailing **, a level at its depth has nothing
				// left to match; before another component it does.
				if s.used+1 < c.depth || !last {
					next = append(next, state{pattern: s.pattern, index: s.index, used: s.used + 1})
				}
				if last {
					matched = appendOnce(matched, p.text)
				}
			case componentMatches(c, e.Name):
				if last {
					matched = appendOnce(matched, p.text)
				} else {
					next = append(next, state{pattern: s.pattern, index: s.index + 1})
				}
			}
		}
		if len(matched) > 0 {
			e.Globs = matched
			if !yield(e) {
				return false
			}
		}
		if len(next) == 0 || !(e.IsDir || (e.IsLink && !opts.NoSymlink)) {
			continue
		}
		if opts.Descend != nil && !opts.Descend(e) {
			continue
		}
		if !g.walk(ctx, scope, a, e.OSPath, g.closure(next), opts, yield) {
			return false
		}
	}
	return true
}

func componentMatches(c component, name string) bool {
	ok, _ := path.Match(c.text, strings.ToLower(name))
	return ok
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
