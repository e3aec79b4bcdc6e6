package fleet

import (
	"fmt"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql/value"
)

// A user's options are Velociraptor's GUI options, which server artifacts
// read too: Server.Utils.ExportHunt protects its zip with
// user_options(user=whoami()).default_password.

const optionsPrefix = "user-options/"

// OptionNames are the options a user has, in Velociraptor's names.
var OptionNames = []string{"theme", "timezone", "lang", "org", "links", "default_password"}

// UserOptions reads a user's options: the ones set, in OptionNames'
// order.
func UserOptions(kv artifacts.Storage, user string) (*ordereddict.Dict, error) {
	data, found, err := kv.Get(optionsPrefix + user)
	if err != nil {
		return nil, err
	}
	if !found {
		return ordereddict.NewDict(), nil
	}
	v, err := value.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("options of %s: %w", user, err)
	}
	d, ok := v.(*ordereddict.Dict)
	if !ok {
		return nil, fmt.Errorf("options of %s: stored as %s, not a dict", user, value.TypeName(v))
	}
	return d, nil
}

// SetUserOptions sets the given options (names from OptionNames) and
// returns the options as they now are.
func SetUserOptions(kv artifacts.Storage, user string, changes *ordereddict.Dict) (*ordereddict.Dict, error) {
	userMu.Lock()
	defer userMu.Unlock()
	old, err := UserOptions(kv, user)
	if err != nil {
		return nil, err
	}
	out := ordereddict.NewDict()
	for _, name := range OptionNames {
		if v, ok := changes.Get(name); ok {
			out.Set(name, v)
		} else if v, ok := old.Get(name); ok {
			out.Set(name, v)
		}
	}
	data, err := value.EncodeJSON(out)
	if err != nil {
		return nil, fmt.Errorf("options of %s: %w", user, err)
	}
	return out, kv.Put(optionsPrefix+user, data)
}
