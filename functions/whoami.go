package functions

import "github.com/vqlq/vqlq/plugins"

// whoami names who the query acts for, from its session: a token's name
// over the API, "server" on the data folder's own command line. Artifacts
// use it to look up the caller's settings.
var whoami = fn("whoami", "The principal the query acts for: the token's name, or \"server\" for the data folder's owner.", nil, func(c call) any {
	return plugins.SenderOf(c.scope).Principal
})
