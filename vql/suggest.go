package vql

import "github.com/vqlq/vqlq/internal/suggest"

// suggestion is " Did you mean X?" for the known name closest to a
// misspelt one, or "": the form of the run-time messages, which end in a
// full stop.
func suggestion(name string, known []string) string {
	if best := suggest.Closest(name, known); best != "" {
		return " Did you mean " + best + "?"
	}
	return ""
}
