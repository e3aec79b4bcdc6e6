package artifacts

import "regexp"

// artifactCall finds `Artifact.X(` in VQL text: a call of another
// artifact, which must be present wherever this one runs.
var artifactCall = regexp.MustCompile(`Artifact\.([A-Za-z0-9_.]+?)\s*\(`)

// Dependencies are the artifacts a needs beside itself to run: those it
// imports and those its VQL (export, preconditions, sources) calls as
// Artifact.X(), each once, imports first, then calls in order of first
// appearance. They are not followed further (see Repository.Closure).
// Whoever ships an artifact to another repository — a client that runs
// it — ships these with it.
func (a *Artifact) Dependencies() []string {
	var out []string
	seen := map[string]bool{a.Name: true}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, imp := range a.Imports {
		add(imp)
	}
	texts := []string{a.Export, a.Precondition}
	for _, s := range a.Sources {
		texts = append(texts, s.Precondition, s.Query)
	}
	for _, t := range texts {
		for _, m := range artifactCall.FindAllStringSubmatch(t, -1) {
			add(m[1])
		}
	}
	return out
}

// Closure returns the artifact called name as org sees it, followed by
// every artifact it depends on, directly or not (Dependencies), each
// once, in the order they are first reached. Dependencies org does not
// know are listed in missing, in that order; they are not an error here,
// since the artifact reports them when it runs.
func (r *Repository) Closure(org, name string) (list []*Artifact, missing []string) {
	seen := map[string]bool{}
	queue := []string{name}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		a, ok := r.get(org, n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		list = append(list, a)
		queue = append(queue, a.Dependencies()...)
	}
	return list, missing
}
