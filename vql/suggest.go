package vql

import "strings"

// suggest returns " Did you mean X?" for the known name closest to a
// misspelt one, or "" when nothing is close.
func suggest(name string, known []string) string {
	if best := closest(name, known); best != "" {
		return " Did you mean " + best + "?"
	}
	return ""
}

// didYouMean is suggest in the form the check's messages use:
// " (did you mean X?)".
func didYouMean(name string, known []string) string {
	if best := closest(name, known); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}

// closest is the known name nearest a misspelt one, or "" when none is
// near enough to be what was meant.
func closest(name string, known []string) string {
	best, bestDist := "", 1<<30
	lname := strings.ToLower(name)
	for _, k := range known {
		d := editDistance(lname, strings.ToLower(k))
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	// A name that must be replaced whole (F for if) is no suggestion.
	limit := min(max(1, len(name)/3), len(name)-1)
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the number of single-byte insertions, deletions,
// substitutions and swaps of neighbours (rnage for range is one) that turn
// a into b: the optimal string alignment distance.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
