package functions

import (
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/vql/value"
)

// getPath walks a dotted member path; parts that are integers index lists.
func getPath(c call, item any, path string) (any, bool) {
	if path == "" {
		return item, true
	}
	cur := item
	for _, part := range strings.Split(path, ".") {
		cur = c.scope.Resolve(c.ctx, cur)
		if i, err := strconv.ParseInt(part, 10, 64); err == nil {
			if _, isList := value.AsList(cur); isList {
				cur = value.Index(cur, i)
				if cur == nil {
					return nil, false
				}
				continue
			}
		}
		v, ok := value.Member(cur, part)
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}
