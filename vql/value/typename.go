package value

import (
	"fmt"
	"time"

	"github.com/Velocidex/ordereddict"
)

// TypeName names a value's type the way VQL messages show it ("row must
// be a dict, not string").
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case float64, float32:
		return "float"
	case []any:
		return "list"
	case *ordereddict.Dict:
		return "dict"
	case time.Time:
		return "timestamp"
	}
	if _, ok := ToNumber(v); ok {
		return "int"
	}
	if Keys(v) != nil {
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
