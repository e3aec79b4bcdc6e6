package value

// Host types give operators a meaning of their own through these
// interfaces, as vfilter's hosts register protocols: Velociraptor's paths
// extend with `+` and slice into shorter paths, its versions compare with
// version text. Each is consulted before the built-in rules; answering
// false leaves the value to them.

// Adder is a value that defines `v + other` (v on the left).
type Adder interface {
	Add(other any) (any, bool)
}

// Slicer is a value that defines `v[lo:hi]`; lo and hi are NULL when
// not written.
type Slicer interface {
	Slice(lo, hi any) (any, bool)
}

// Comparer is a value that orders itself against other, on either side
// of `=`, `!=`, `<`, `<=`, `>` and `>=`: c is negative, zero or positive
// as v is below, equal to or above other; ok is false when the two
// cannot be compared (every ordering is then false, and = too).
type Comparer interface {
	Compare(other any) (c int, ok bool)
}

// protocolCompare is a Comparer's answer for a against b, whichever side
// implements it; applies is false when neither does.
func protocolCompare(a, b any) (c int, ok, applies bool) {
	if x, is := a.(Comparer); is {
		c, ok = x.Compare(b)
		return c, ok, true
	}
	if y, is := b.(Comparer); is {
		c, ok = y.Compare(a)
		return -c, ok, true
	}
	return 0, false, false
}
