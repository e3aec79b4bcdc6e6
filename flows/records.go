package flows

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// The states of a flow, in Velociraptor's words: artifacts filter on them
// (`WHERE NOT Flow.state =~ "ERROR|FINISHED"`).
const (
	StateWaiting  = "WAITING" // scheduled on a client that has not taken it
	StateRunning  = "RUNNING"
	StateFinished = "FINISHED"
	StateError    = "ERROR"
)

// The states of a hunt.
const (
	HuntRunning = "RUNNING"
	HuntPaused  = "PAUSED"
	HuntStopped = "STOPPED"
)

// Spec is the parameters of one artifact of a request, as Velociraptor's
// request lists them.
type Spec struct {
	Artifact   string     `json:"artifact"`
	Parameters Parameters `json:"parameters"`
}

// Parameters are an artifact's parameters as key/value pairs, in order.
type Parameters struct {
	Env []EnvVar `json:"env"`
}

// EnvVar is one parameter.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Request is what was asked of a flow: the artifacts, their parameters
// and the limits. Parameters repeats the specs' values in one list, as
// older Velociraptor requests had them (request.parameters.env[0].value
// is read by artifacts).
type Request struct {
	ClientID   string     `json:"client_id"`
	Creator    string     `json:"creator"`
	Artifacts  []string   `json:"artifacts"`
	Specs      []Spec     `json:"specs"`
	Parameters Parameters `json:"parameters"`
	Timeout    uint64     `json:"timeout,omitempty"`
	MaxRows    uint64     `json:"max_rows,omitempty"`
	MaxBytes   uint64     `json:"max_upload_bytes,omitempty"`
	Urgent     bool       `json:"urgent,omitempty"`
}

// Flow is the record of one collection, with Velociraptor's field names
// (artifacts read Flow.session_id, Flow.state, Flow.artifacts_with_results).
// Times are microseconds since the epoch, durations nanoseconds.
type Flow struct {
	ClientID             string   `json:"client_id"`
	SessionID            string   `json:"session_id"`
	HuntID               string   `json:"hunt_id,omitempty"`
	Request              Request  `json:"request"`
	CreateTime           int64    `json:"create_time"`
	StartTime            int64    `json:"start_time"`
	ActiveTime           int64    `json:"active_time"`
	State                string   `json:"state"`
	Status               string   `json:"status"`
	TotalCollectedRows   int64    `json:"total_collected_rows"`
	TotalLogs            int64    `json:"total_logs"`
	TotalUploadedFiles   int64    `json:"total_uploaded_files"`
	TotalUploadedBytes   int64    `json:"total_uploaded_bytes"`
	ArtifactsWithResults []string `json:"artifacts_with_results"`
	ExecutionDuration    int64    `json:"execution_duration"`
}

// Condition is whom a hunt targets.
type Condition struct {
	IncludeLabels []string `json:"labels,omitempty"`
	ExcludeLabels []string `json:"excluded_labels,omitempty"`
	OS            string   `json:"os,omitempty"`
}

// HuntStats counts a hunt's flows.
type HuntStats struct {
	TotalClientsScheduled int64 `json:"total_clients_scheduled"`
}

// Hunt is the record of one hunt, with Velociraptor's field names
// (hunt_id, hunt_description, start_request.artifacts, state).
type Hunt struct {
	HuntID       string    `json:"hunt_id"`
	Description  string    `json:"hunt_description"`
	Creator      string    `json:"creator"`
	CreateTime   int64     `json:"create_time"`
	StartTime    int64     `json:"start_time"`
	Expires      int64     `json:"expires"`
	State        string    `json:"state"`
	Artifacts    []string  `json:"artifacts"`
	StartRequest Request   `json:"start_request"`
	Condition    Condition `json:"condition"`
	Tags         []string  `json:"tags"`
	Stats        HuntStats `json:"stats"`
}

// The key prefixes of the records in the manager's store. Org ids, client
// ids and flow ids hold no '/', so a prefix never reaches a neighbour's.
const (
	flowPrefix     = "flows/"      // flows/<org>/<client>/<flow>
	huntPrefix     = "hunts/"      // hunts/<org>/<hunt>
	huntFlowPrefix = "hunt-flows/" // hunt-flows/<org>/<hunt>/<client> -> flow id
)

func flowKey(org, client, flow string) string { return flowPrefix + org + "/" + client + "/" + flow }
func huntKey(org, hunt string) string         { return huntPrefix + org + "/" + hunt }
func huntFlowKey(org, hunt, client string) string {
	return huntFlowPrefix + org + "/" + hunt + "/" + client
}

// ErrNotFound is a flow or hunt that is not recorded.
var ErrNotFound = errors.New("not found")

// idPattern is what client, flow and hunt ids may hold: they name
// folders of the file store, so no separator and no dot-only name.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// checkID refuses an id that could not name a record or a folder.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if !idPattern.MatchString(id) || strings.Contains(id, "..") {
		return fmt.Errorf("%s %q is not an id (letters, digits, '.', '_' or '-')", what, id)
	}
	return nil
}

// newID is a flow or hunt id: the prefix and 13 characters of base32, as
// Velociraptor's ids look (F.CRG4PQ8UK1HJ6).
func newID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
	b := make([]byte, 13)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return prefix + string(b)
}

var jsonUnmarshal = json.Unmarshal

func getJSON(kv artifacts.Storage, key string, into any) error {
	data, found, err := kv.Get(key)
	if err != nil {
		return err
	}
	if !found {
		return ErrNotFound
	}
	return json.Unmarshal(data, into)
}

func putJSON(kv artifacts.Storage, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return kv.Put(key, data)
}

// toDict turns a record into the row VQL sees, keeping its field order.
func toDict(v any) *ordereddict.Dict {
	data, err := json.Marshal(v)
	if err != nil {
		return ordereddict.NewDict()
	}
	d, _ := value.DecodeJSON(data)
	if dict, ok := d.(*ordereddict.Dict); ok {
		return dict
	}
	return ordereddict.NewDict()
}

// recordRows yields each record as its row (toDict), until the query
// stops: flows() and hunts() list their records so.
func recordRows[T any](ctx context.Context, list []T) iter.Seq[vql.Row] {
	return func(yield func(vql.Row) bool) {
		for _, r := range list {
			if ctx.Err() != nil || !yield(toDict(r)) {
				return
			}
		}
	}
}
