// Package clientapi is the protocol between `vqlq client` and `vqlq
// serve`: the paths, and the JSON bodies each side sends. It exists apart
// from both so that neither links the other, and so that the one place to
// read when the protocol changes is here.
//
// A client enrolls once, with an enrollment token (a token of role
// enroll, or an admin's):
//
//	POST /api/v1/orgs/{org}/clients/enroll         Enrollment → Enrolled
//
// From then on it authenticates as itself: Authorization: Bearer
// <its own secret>, on paths that name its id:
//
//	GET  /api/v1/orgs/{org}/clients/{id}/stream    NDJSON Messages, long-lived
//	POST /api/v1/orgs/{org}/clients/{id}/events    Batch → Ack
//	POST /api/v1/orgs/{org}/clients/{id}/info      Info
//	POST /api/v1/orgs/{org}/clients/{id}/ping
//	POST /api/v1/orgs/{org}/clients/{id}/status    []Status
//
// The stream carries the client's event table as soon as it connects
// and again whenever it changes (the table, or the client's labels), so a
// change reaches a client within a round trip, not a polling period. Only
// one stream per client id may be open: a second gets 409 Conflict.
//
// Events carry the client's own sequence numbers, increasing across all
// its queues; the server stores each (queue, client, number) once, so a
// client resends a batch whose answer it did not get without creating
// duplicates, and drops rows from its buffer only once Ack covers them.
package clientapi

import (
	"encoding/json"
	"time"
)

// Path returns the path of a client endpoint.
func Path(org, id, endpoint string) string {
	return "/api/v1/orgs/" + org + "/clients/" + id + "/" + endpoint
}

// EnrollPath is the path a client enrolls at.
func EnrollPath(org string) string { return "/api/v1/orgs/" + org + "/clients/enroll" }

// Info is what a client says of its host.
type Info struct {
	Hostname     string `json:"hostname"`
	FQDN         string `json:"fqdn,omitempty"`
	System       string `json:"system"`
	Release      string `json:"release,omitempty"`
	Machine      string `json:"machine"`
	AgentName    string `json:"agent_name"`
	AgentVersion string `json:"agent_version"`
}

// Enrollment is a client's first request: the id and credential it made
// for itself (only the credential's SHA-256 travels), and its host.
type Enrollment struct {
	ClientID string `json:"client_id"`
	KeyHash  string `json:"key_hash"`
	Info
}

// Enrolled is the server's answer to an Enrollment.
type Enrolled struct {
	ClientID string `json:"client_id"`
	Org      string `json:"org"`
	// New is false when the client was known (it enrolled again with the
	// same credential, e.g. after losing its answer).
	New bool `json:"new"`
}

// Message types on the stream.
const (
	MessageTable = "table" // Table is set
	MessageKill  = "kill"  // killkillkill(): exit, to be restarted
	MessagePing  = "ping"  // keeps proxies from cutting a quiet stream
)

// Message is one line of the stream.
type Message struct {
	Type  string `json:"type"`
	Table *Table `json:"table,omitempty"`
}

// Table is what a client runs: the CLIENT_EVENT artifacts of its event
// table, with their definitions (the client has no repository of its
// own) and parameters.
type Table struct {
	// Version changes whenever anything in the table does.
	Version   string     `json:"version"`
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact is one entry of a Table.
type Artifact struct {
	Name string `json:"name"`
	// Parameters are the entry's parameter values (a JSON object).
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Definitions are the YAML texts of the artifact and of every
	// artifact it calls.
	Definitions []string `json:"definitions"`
}

// Row is one row a client's source emitted, for one queue (Artifact or
// Artifact/Source).
type Row struct {
	Seq   uint64          `json:"seq"`
	Queue string          `json:"queue"`
	Row   json.RawMessage `json:"row"`
}

// Batch is a POST to events: rows in increasing Seq.
type Batch struct {
	Rows []Row `json:"rows"`
}

// Ack answers a Batch: every row up to Through is stored (Stored of them
// by this request; the rest were stored before).
type Ack struct {
	Through uint64 `json:"through"`
	Stored  int    `json:"stored"`
}

// Status is what a client reports of one artifact it runs.
type Status struct {
	Artifact string    `json:"artifact"`
	State    string    `json:"state"` // running, restarting, stopped, error
	Error    string    `json:"error,omitempty"`
	Time     time.Time `json:"time"`
	Messages []string  `json:"messages,omitempty"`
}

// Error is the body of a refusal, as every API endpoint answers it.
type Error struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}
