package queues_test

import (
	"iter"

	"github.com/Velocidex/ordereddict"
)

func iterPull(seq iter.Seq[*ordereddict.Dict]) (func() (*ordereddict.Dict, bool), func()) {
	return iter.Pull(seq)
}
