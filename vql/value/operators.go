package value

// Operators are the semantics of VQL's binary operators. vfilter defines a
// core and lets its host register protocols for more types; Velociraptor
// registers several that its artifacts rely on: dict + dict merges,
// string * int repeats, a time compares with a string read as a time, and
// =~ reads a dict or a time as its text. The zero Operators has them all,
// as the package functions Add, Mul, Compare and RegexMatch do.
type Operators struct {
	// VfilterCore leaves Velociraptor's protocols out: vfilter's own
	// conformance corpus tests the core alone (a time against a string,
	// or a dict under =~, is false there).
	VfilterCore bool
}
