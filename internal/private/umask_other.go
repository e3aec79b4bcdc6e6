//go:build !unix

package private

// hasUmask says whether the system has a umask and Unix permissions:
// not here (Windows), where Restrict does nothing and Check has nothing
// to judge.
const hasUmask = false

func setUmask(int) {}
