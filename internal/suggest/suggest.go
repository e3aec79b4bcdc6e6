// Package suggest finds, for a misspelt name, the known name that was
// probably meant, so that every layer (the parser's keywords, the check's
// plugins and functions, the queues' artifact names) offers the same
// "did you mean …?" for the same mistake.
package suggest

import "strings"

// Closest is the known name nearest a misspelt one (ignoring case), or ""
// when none is near enough to be what was meant (see MaxDistance).
func Closest(name string, known []string) string {
	best, bestDist := "", 1<<30
	lname := strings.ToLower(name)
	for _, k := range known {
		if d := Distance(lname, strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" || bestDist > MaxDistance(name) {
		return ""
	}
	return best
}

// MaxDistance is how far (in Distance) a known name may be from a
// misspelt one and still be offered: one edit per three letters, at least
// one, and never the whole name.
func MaxDistance(name string) int {
	return min(max(1, len(name)/3), len(name)-1)
}

// DidYouMean is " (did you mean X?)" for the closest known name, or ""
// when nothing is close: the form appended to a message.
func DidYouMean(name string, known []string) string {
	if best := Closest(name, known); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}

// Distance is the number of single-byte insertions, deletions,
// substitutions and swaps of neighbours (rnage for range is one) that turn
// a into b: the optimal string alignment distance.
func Distance(a, b string) int {
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
