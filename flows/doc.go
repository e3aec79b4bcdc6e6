// Package flows keeps collections (flows) and hunts, so that the server
// artifacts written for Velociraptor — which schedule collections, wait
// for them, read their results and manage hunts — run here.
//
// A flow is one collection of artifacts from one client, or from the
// server itself (client id "server"): a server flow runs at once, in the
// background, through the engine and with the identity of the session
// that started it; a client flow is recorded as scheduled, for the client
// to fetch when clients connect. A hunt is a set of client flows started
// together on the clients its conditions match.
//
// Layout:
//   - records.go: the flow and hunt records, kept per org in the
//     manager's key-value store (queues.Manager.Storage), so that they
//     live and move with the data folder;
//   - filestore.go: the file store, the data folder's filestore/ (one
//     folder per org), where flows keep their results, one JSON-lines
//     file per artifact source, and downloads their zips;
//   - service.go: starting, running, cancelling and deleting flows;
//   - hunts.go: creating hunts and scheduling their flows;
//   - download.go: the zips of a flow's or a hunt's results;
//   - vql_*.go: the VQL plugins and functions over all of this, and the
//     source() plugin extended to a flow's results and a client's events.
//
// The clients a flow may target are known to another service (the
// fleet): this package asks it through the Clients interface only.
package flows
