// Package clienttable is the server's client event table: which
// CLIENT_EVENT artifacts every client of an org runs, or only the clients
// that carry a label, with which parameters (add_client_monitoring,
// rm_client_monitoring, get_client_monitoring, vqlq serve
// --client-monitor). It mirrors package monitoring, which keeps the
// server's own SERVER_EVENT table, for the other producer of events: the
// clients.
//
// It exists apart from the connection code that serves clients because
// the table is configuration, read by three parties that change at
// different speeds: people change it (VQL, audited), the client endpoint
// asks it what one client runs now (For, with the definitions the client
// must load, and a Version to tell whether anything changed; Next waits
// for a change, which is what a long poll needs), and clients report
// back how each of their queries fares (Report, client_monitoring_logs).
// The server never runs these artifacts itself.
//
// Key layout in the store (queues.Manager.Storage; an org id never holds
// '/', see queues.CheckOrg):
//
//	client-monitoring/<org>   the org's table, as JSON:
//	                          {"version": N, "entries": [{"artifact", "label", "parameters"}]}
//
// as monitoring keeps `monitoring/<org>`. An entry with no label is for
// every client; "all" (any case) is the same as no label, as in
// Velociraptor. Labels match case-insensitively. The reported states are
// kept in memory only, bounded: they describe the clients' present, and
// a client reports again when it reconnects.
package clienttable
