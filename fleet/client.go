package fleet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
)

// Client is what the server keeps of one enrolled endpoint. Everything but
// Connected is stored; Connected is the live state of its connection,
// which only a running server knows (issue 13 sets it).
type Client struct {
	ClientID string `json:"client_id"`
	Hostname string `json:"hostname,omitempty"`
	FQDN     string `json:"fqdn,omitempty"`
	// System, Release and Machine are the OS as the client reports it:
	// "windows", "10.0.19045", "amd64".
	System       string    `json:"system,omitempty"`
	Release      string    `json:"release,omitempty"`
	Machine      string    `json:"machine,omitempty"`
	AgentName    string    `json:"agent_name,omitempty"`
	AgentVersion string    `json:"agent_version,omitempty"`
	FirstSeen    time.Time `json:"first_seen,omitzero"`
	LastSeen     time.Time `json:"last_seen,omitzero"`
	LastIP       string    `json:"last_ip,omitempty"`
	Labels       []string  `json:"labels,omitempty"`
	// KeyHash is the SHA-256 (hex) of the credential the client made for
	// itself when it enrolled; the secret itself is only on the client.
	KeyHash string `json:"key_hash,omitempty"`

	Connected bool `json:"-"`
}

// ServerID is the well-known id of the server itself: collections that
// run on the server and events it sends carry it as their client id.
const ServerID = "server"

// clientIDPattern is the form NewClientID makes: Velociraptor's "C." and
// 16 hex digits.
var clientIDPattern = regexp.MustCompile(`^C\.[0-9a-f]{16}$`)

// CheckClientID validates a client id as a record may carry it.
func CheckClientID(id string) error {
	if !clientIDPattern.MatchString(id) {
		return fmt.Errorf("client id %q should be of the form C.<16 hex digits>", id)
	}
	return nil
}

// NewClientID makes a fresh random client id.
func NewClientID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "C." + hex.EncodeToString(b)
}

// HasLabel reports whether the client carries label, in any case (labels
// are matched without case, as Velociraptor's are).
func (c *Client) HasLabel(label string) bool {
	return slices.ContainsFunc(c.Labels, func(l string) bool { return strings.EqualFold(l, label) })
}

// Row is the client as clients() and client_info() show it: the shape of
// Velociraptor's client record, so that artifacts read os_info.hostname,
// agent_information.version, last_seen_at (microseconds since the epoch)
// and first_seen_at (seconds) where they expect them.
func (c *Client) Row() *ordereddict.Dict {
	labels := make([]any, len(c.Labels))
	for i, l := range c.Labels {
		labels[i] = l
	}
	var first, last int64
	if !c.FirstSeen.IsZero() {
		first = c.FirstSeen.Unix()
	}
	if !c.LastSeen.IsZero() {
		last = c.LastSeen.UnixMicro()
	}
	return ordereddict.NewDict().
		Set("client_id", c.ClientID).
		Set("agent_information", ordereddict.NewDict().
			Set("version", c.AgentVersion).
			Set("name", c.AgentName)).
		Set("os_info", ordereddict.NewDict().
			Set("system", c.System).
			Set("hostname", c.Hostname).
			Set("release", c.Release).
			Set("machine", c.Machine).
			Set("fqdn", c.FQDN)).
		Set("first_seen_at", first).
		Set("last_seen_at", last).
		Set("last_ip", c.LastIP).
		Set("labels", labels).
		Set("connected", c.Connected)
}
