package fleet

import (
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// Plugins are the fleet's plugins, bound to the manager the provider
// returns; the org is the session's.
func Plugins(provider queues.Provider) []vql.Plugin {
	return []vql.Plugin{
		clientsPlugin(provider),
		clientDelete(provider),
		guiUsers(provider),
		userMessages(provider),
	}
}

// Functions are the fleet's functions.
func Functions(provider queues.Provider) []vql.Function {
	return []vql.Function{
		clientInfo(provider),
		labelFunction(provider),
		killFunction(provider),
		userCreate(provider),
		userOptions(provider),
		userMessage(provider),
		orgCreate(provider),
	}
}
