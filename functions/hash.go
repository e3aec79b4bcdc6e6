package functions

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

var hashers = []struct {
	name string
	make func() hash.Hash
}{{"MD5", md5.New}, {"SHA1", sha1.New}, {"SHA256", sha256.New}}

// Hash digests data read through an accessor (vqlq reads no host files,
// so with accessor="data" it hashes the text itself).
var Hash = fn("hash", "A dict {MD5, SHA1, SHA256} of the hex digests of the data path names (through accessor).",
	[]vql.ArgSpec{
		arg("path", vql.TypeString, true, "What to hash: with accessor=\"data\" the data itself."),
		accessorArg,
		arg("hashselect", vql.TypeList, false, "Only these digests (MD5, SHA1, SHA256)."),
	}, func(c call) any {
		selected := c.args.Strings("hashselect")
		b, ok := accessors.ReadArg(c.ctx, c.scope, c.args, "hash", "path")
		if !ok {
			return nil
		}
		want := func(name string) bool {
			if len(selected) == 0 {
				return true
			}
			for _, s := range selected {
				if strings.EqualFold(s, name) {
					return true
				}
			}
			return false
		}
		out := ordereddict.NewDict()
		for _, h := range hashers {
			if want(h.name) {
				d := h.make()
				d.Write(b)
				out.Set(h.name, hex.EncodeToString(d.Sum(nil)))
			}
		}
		if out.Len() == 0 {
			c.scope.Errorf("hash: hashselect %q names no digest (want MD5, SHA1 or SHA256)", selected)
			return nil
		}
		return out
	})
