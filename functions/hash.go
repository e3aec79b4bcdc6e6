package functions

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

var hashers = []struct {
	name string
	make func() hash.Hash
}{{"MD5", md5.New}, {"SHA1", sha1.New}, {"SHA256", sha256.New}}

// Hash digests a file as it streams through the accessor: every digest
// is fed from one read of the file, which is never held whole.
var Hash = fn("hash", "A dict {MD5, SHA1, SHA256} of the hex digests of the file path names (through accessor).",
	[]vql.ArgSpec{
		arg("path", vql.TypeAny, true, "The file to hash (a path or a pathspec); with accessor=\"data\" the data itself."),
		accessorArg,
		arg("hashselect", vql.TypeList, false, "Only these digests (MD5, SHA1, SHA256)."),
	}, func(c call) any {
		selected := c.args.Strings("hashselect")
		if c.args.Failed() {
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
		var names []string
		var digests []hash.Hash
		var writers []io.Writer
		for _, h := range hashers {
			if want(h.name) {
				d := h.make()
				names, digests, writers = append(names, h.name), append(digests, d), append(writers, d)
			}
		}
		if len(digests) == 0 {
			c.scope.Errorf("hash: hashselect %q names no digest (want MD5, SHA1 or SHA256)", selected)
			return nil
		}
		r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "hash", "path")
		if !ok {
			return nil
		}
		defer r.Close()
		if _, err := io.Copy(io.MultiWriter(writers...), accessors.Reader(c.ctx, r)); err != nil {
			c.scope.Errorf("hash: %s: %v", accessors.PathString(c.args.Value("path")), err)
			return nil
		}
		out := ordereddict.NewDict()
		for i, d := range digests {
			out.Set(names[i], hex.EncodeToString(d.Sum(nil)))
		}
		return out
	})
