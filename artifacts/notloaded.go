package artifacts

import (
	"errors"
	"slices"
	"strings"

	"github.com/vqlq/vqlq/internal/suggest"
	"github.com/vqlq/vqlq/vql/source"
)

// NotLoaded is a file of the definitions folder that was left out: not a
// valid definition, a name already taken, or VQL the check refused (a
// plugin vqlq lacks, a misspelt function). The rest of the folder loads,
// and what the user sees when they name it says why it is missing instead
// of "not found".
type NotLoaded struct {
	// Name is the artifact's name, or "" when the file does not say.
	Name string
	File string
	// Reason is one of the Reason constants, for the counts.
	Reason string
	// Problems are the findings, each positioned in File.
	Problems []error
}

// Error lists the problems on one line, each as file:line:col: message,
// and says the artifact is not loaded: the text of the start-up warning.
func (n *NotLoaded) Error() string {
	parts := make([]string, 0, len(n.Problems)+1)
	for _, p := range n.Problems {
		var se *source.Error
		if errors.As(p, &se) {
			parts = append(parts, se.Summary())
		} else {
			parts = append(parts, p.Error())
		}
	}
	if n.Name != "" {
		parts = append(parts, "artifact "+n.Name+" is not loaded")
	} else {
		parts = append(parts, n.File+" is not loaded")
	}
	return strings.Join(parts, "; ")
}

// NotLoaded returns the folder artifacts LoadDir left out, by file.
func (r *Repository) NotLoaded() []*NotLoaded {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*NotLoaded, 0, len(r.notLoaded))
	for _, n := range r.notLoaded {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *NotLoaded) int { return strings.Compare(a.File, b.File) })
	return out
}

// Missing says why org has no artifact called name, as a suffix for a
// "not known" message: ": <why it was not loaded>" for a folder
// artifact that was left out, " (did you mean X?)" when a name org can
// see is a small slip away, else "".
func (r *Repository) Missing(org, name string) string {
	r.mu.RLock()
	n := r.notLoaded[name]
	r.mu.RUnlock()
	if n != nil {
		return ": " + n.Error()
	}
	all := r.List(org)
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = a.Name
	}
	return suggest.DidYouMean(name, names)
}
