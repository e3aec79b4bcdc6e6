package functions

import (
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql"
)

// ServerFunctions are the server's services that Velociraptor's server
// artifacts call beside the queues (verify, the tools inventory, …),
// bound to the manager the provider returns. NewQueueEngine adds them.
func ServerFunctions(provider queues.Provider) []vql.Function {
	return []vql.Function{
		verify(provider),
		inventoryAdd(provider),
		inventoryGet(provider),
		repackFunction(provider),
		timelineAdd(provider),
		timelineDelete(provider),
	}
}

// ServerPlugins are the plugins of the same services.
func ServerPlugins(provider queues.Provider) []vql.Plugin {
	return []vql.Plugin{inventoryPlugin(provider), timelinePlugin(provider), timelinesPlugin(provider), notebookDelete(provider)}
}
