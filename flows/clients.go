package flows

// ServerID is the client id of the server itself: a flow on it runs here.
const ServerID = "server"

// Clients is what flows need to know of the fleet: whether a client is
// registered in an org, and which clients a hunt's conditions match. The
// fleet's registry provides it; flows do not depend on how it keeps them.
type Clients interface {
	// Exists reports whether the org has a client of this id.
	Exists(org, clientID string) (bool, error)
	// Matching lists the clients of the org that carry one of
	// includeLabels (all clients when it is empty), none of
	// excludeLabels, and run os ("" is any).
	Matching(org string, includeLabels, excludeLabels []string, os string) ([]string, error)
}

// serverOnly is the fleet before one is wired in: it knows the server
// alone, so that server flows work and every client id is unknown.
type serverOnly struct{}

func (serverOnly) Exists(_, clientID string) (bool, error) { return clientID == ServerID, nil }

func (serverOnly) Matching(string, []string, []string, string) ([]string, error) { return nil, nil }
