// Package value holds VQL's value semantics: truthiness, equality, ordering,
// arithmetic, membership, member access, indexing. Every operator of the
// evaluator lands here, so the rules of spec/vql.md live in one place.
//
// Values are plain Go values: nil, bool, int64, float64, string, time.Time,
// []any, *ordereddict.Dict, and whatever a host program puts in scope
// (other integer widths, maps, structs). Lazy values (stored queries, lazy
// expressions) are resolved by the evaluator before they reach this
// package.
package value
