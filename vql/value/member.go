package value

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/Velocidex/ordereddict"
)

// Getter is any keyed value: *ordereddict.Dict is one, and a host type can
// be one to control exactly which members VQL sees.
type Getter interface {
	Get(key string) (any, bool)
}

// Keyer lists the members of a value for `SELECT *` and for dict().
type Keyer interface {
	Keys() []string
}

// AsList returns v as a []any when it is a list of any element type.
// Strings and byte slices are not lists.
func AsList(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case nil, string, []byte, *ordereddict.Dict:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// Member is `v.name`. Dicts and maps by key; Go structs by exported field
// name, by json tag, or by a method with no arguments (called now: a
// time's Unix, Year…, its String being RFC 3339); a list
// gives the list of each element's member, which is how `Q.col` reads a
// column of a stored query.
func Member(v any, name string) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case *ordereddict.Dict:
		return t.Get(name)
	case Getter:
		return t.Get(name)
	case map[string]any:
		r, ok := t[name]
		return r, ok
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i], _ = Member(e, name)
		}
		return out, true
	case string, bool, int64, float64:
		return nil, false
	case time.Time:
		// Go's String is its own layout; VQL's text of a time is RFC 3339.
		if name == "String" {
			return TimeText(t), true
		}
	}
	return reflectMember(v, name)
}

// Keys lists the members of a keyed value in order (nil for scalars).
func Keys(v any) []string {
	switch t := v.(type) {
	case *ordereddict.Dict:
		return t.Keys()
	case Keyer:
		return t.Keys()
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sortStrings(keys)
		return keys
	case nil, string, bool, int64, float64, []any, time.Time:
		return nil
	}
	info := structInfoOf(reflect.TypeOf(v))
	if info == nil {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
			var keys []string
			for _, k := range rv.MapKeys() {
				keys = append(keys, k.String())
			}
			sortStrings(keys)
			return keys
		}
		return nil
	}
	return info.names
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// structInfo caches, per Go type, how each visible member is reached.
type structInfo struct {
	names   []string
	members map[string]memberRef
}

type memberRef struct {
	field  []int // field index path, or nil for a method
	method int
}

var structCache sync.Map // reflect.Type -> *structInfo (nil for non-structs)

func structInfoOf(t reflect.Type) *structInfo {
	if t == nil {
		return nil
	}
	if c, ok := structCache.Load(t); ok {
		return c.(*structInfo)
	}
	info := buildStructInfo(t)
	structCache.Store(t, info)
	return info
}

func buildStructInfo(t reflect.Type) *structInfo {
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil
	}
	info := &structInfo{members: map[string]memberRef{}}
	add := func(name string, ref memberRef) {
		if _, dup := info.members[name]; dup {
			return
		}
		info.members[name] = ref
	}
	for _, f := range reflect.VisibleFields(st) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == "-" {
			continue
		}
		info.names = append(info.names, f.Name)
		add(f.Name, memberRef{field: f.Index})
		if tag != "" {
			add(tag, memberRef{field: f.Index})
		}
	}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if !isGetter(m.Type) || !unicode.IsUpper(rune(m.Name[0])) {
			continue
		}
		if _, ok := info.members[m.Name]; ok {
			continue
		}
		info.names = append(info.names, m.Name)
		add(m.Name, memberRef{method: i + 1})
	}
	return info
}

// isGetter accepts methods that take no arguments (besides the receiver)
// and return one value, or a value and an error.
func isGetter(mt reflect.Type) bool {
	if mt.NumIn() != 1 {
		return false
	}
	switch mt.NumOut() {
	case 1:
		return true
	case 2:
		return mt.Out(1) == reflect.TypeFor[error]()
	}
	return false
}

func reflectMember(v any, name string) (any, bool) {
	t := reflect.TypeOf(v)
	info := structInfoOf(t)
	if info == nil {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
			r := rv.MapIndex(reflect.ValueOf(name).Convert(rv.Type().Key()))
			if !r.IsValid() {
				return nil, false
			}
			return r.Interface(), true
		}
		if m, ok := t.MethodByName(name); ok && isGetter(m.Type) {
			return callMethod(rv.Method(m.Index))
		}
		return nil, false
	}
	ref, ok := info.members[name]
	if !ok {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if ref.field == nil {
		return callMethod(rv.Method(ref.method - 1))
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, false
		}
		rv = rv.Elem()
	}
	f, err := rv.FieldByIndexErr(ref.field)
	if err != nil {
		return nil, false
	}
	return f.Interface(), true
}

func callMethod(m reflect.Value) (any, bool) {
	out := m.Call(nil)
	if len(out) == 2 && !out[1].IsNil() {
		return nil, false
	}
	return out[0].Interface(), true
}

// Index is `v[i]`: lists and strings (a string's element is its byte value)
// take a possibly negative integer; keyed values take a string. A negative
// index of a list wraps around it however far it goes; other out of range
// indexes are NULL.
func Index(v, idx any) any {
	if s, ok := v.(string); ok {
		i, ok := ToInt64(idx)
		if !ok {
			return nil
		}
		if i < 0 {
			i += int64(len(s))
		}
		if i < 0 || i >= int64(len(s)) {
			return nil
		}
		return int64(s[i])
	}
	if l, ok := AsList(v); ok {
		i, ok := ToInt64(idx)
		if !ok {
			return nil
		}
		if n := int64(len(l)); i < 0 && n > 0 {
			// Velociraptor wraps a negative index around the list,
			// Python's modulo: [a, b][-3] is b (paths.in.yaml reads
			// path_split(…)[-20]).
			i = (i%n + n) % n
		}
		if i < 0 || i >= int64(len(l)) {
			return nil
		}
		return l[i]
	}
	if key, ok := idx.(string); ok {
		r, _ := Member(v, key)
		return r
	}
	if i, ok := ToInt64(idx); ok {
		r, _ := Member(v, strconv.FormatInt(i, 10))
		return r
	}
	return nil
}

// Slice is `v[lo:hi]` on lists and strings, Python style: negative bounds
// count from the end, bounds are clamped, and lo ≥ hi is empty. A
// Slicer slices itself.
func Slice(v, lo, hi any) any {
	if x, ok := v.(Slicer); ok {
		if r, ok := x.Slice(lo, hi); ok {
			return r
		}
	}
	var n int64
	s, isStr := v.(string)
	var l []any
	if isStr {
		n = int64(len(s))
	} else {
		var ok bool
		if l, ok = AsList(v); !ok {
			return nil
		}
		n = int64(len(l))
	}
	bound := func(b any, def int64) int64 {
		if b == nil {
			return def
		}
		i, ok := ToInt64(b)
		if !ok {
			return def
		}
		if i < 0 {
			i += n
		}
		return max(0, min(i, n))
	}
	from, to := bound(lo, 0), bound(hi, n)
	if from > to {
		from = to
	}
	if isStr {
		return s[from:to]
	}
	return append([]any{}, l[from:to]...)
}

// In is `a IN b`: an element of a list, a substring of a string, or a key
// of a dict.
func In(a, b any) bool {
	switch t := b.(type) {
	case nil:
		return false
	case string:
		s, ok := a.(string)
		return ok && strings.Contains(t, s)
	case *ordereddict.Dict:
		s, ok := a.(string)
		if !ok {
			return false
		}
		_, present := t.Get(s)
		return present
	}
	if l, ok := AsList(b); ok {
		for _, e := range l {
			if Equal(a, e) {
				return true
			}
		}
		return false
	}
	if s, ok := a.(string); ok {
		_, present := Member(b, s)
		return present
	}
	return false
}
