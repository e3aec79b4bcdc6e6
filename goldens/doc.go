// Package goldens replays Velociraptor's golden tests against vqlq. The
// test files are not part of this repository (their licence is not ours):
// the test reads them from the shared folder's velociraptor/testcases, or
// from $VQLQ_VELOCIRAPTOR_DIR/testcases, and skips, saying where it
// looked, when neither exists.
//
// A file qualifies when the check stage (vql.Engine.Check) finds every
// plugin and function its queries call and it reads none of the files of
// Velociraptor's repository. Its queries then run in order in one session,
// with the file's Parameters set first and the fixtures Velociraptor's
// golden runner provides (fixtures.go), and each query's rows are compared
// with the .out.yaml the way the vfilter conformance test compares
// (column order matters, numbers compare by value). deviations.txt lists
// the queries vqlq answers differently, each with its reason.
package goldens
