// Package fleet is the server's record of its clients (the endpoints that
// enroll with it) and of the people who use it (principals, orgs), with
// the VQL vocabulary Velociraptor's server artifacts use to read and
// change them: clients(), client_info(), label(), client_delete(),
// killkillkill(), gui_users(), user_create(), org_create(), …
//
// It exists apart from the queues because a client is not an event: it is
// a small record that is read on almost every row of a server artifact
// (client_info(client_id=ClientId).os_info.hostname), changed in place
// (labels, last seen) and searched (label:X, host:X). The records live in
// the data folder's key-value store (queues.Manager.Storage), so they move
// and are backed up with the queues.
//
// Key layout in the store (an org id never holds '/', see queues.CheckOrg):
//
//	clients/<org>/<client_id>        a Client, as JSON
//	client-kills/<org>/<client_id>   a pending kill request (killkillkill)
//	users/<name>                     a User: roles per org (user_create)
//	user-options/<name>              a user's options (user_options)
//	user-messages/<org>/<name>/<ns>  a message to a user (user_message)
//
// Principals that hold API tokens (tokens/…, written by package server)
// are read, never written, here: gui_users() lists them beside the users
// user_create() recorded. Org names are the queue manager's
// (queues.Manager.CreateOrg), since orgs() and org() show them.
//
// Until clients run (issue 13) nothing enrolls, so the listings are empty
// but real: every call works on the records that exist.
package fleet
