package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql/value"
)

// A user's messages are the notifications Velociraptor shows in its
// console (user_message()): vqlq keeps them per org and user, in the order
// sent, until the user reads them with clear=TRUE (user_messages()).

const messagePrefix = "user-messages/"

func messagesOf(org, user string) string { return messagePrefix + org + "/" + user + "/" }

// PostMessage stores a message to a user of org from principal.
func PostMessage(kv artifacts.Storage, org, user, from string, message *ordereddict.Dict, now time.Time) error {
	row := ordereddict.NewDict().Set("timestamp", now.UTC()).Set("sender", from).Set("message", message)
	data, err := value.EncodeJSON(row)
	if err != nil {
		return fmt.Errorf("message: %w", err)
	}
	// The key orders messages by the time they were sent.
	return kv.Put(fmt.Sprintf("%s%020d", messagesOf(org, user), now.UnixNano()), data)
}

// Messages reads a user's messages in org, oldest first; clear deletes
// those read.
func Messages(kv artifacts.Storage, org, user string, clear bool) ([]*ordereddict.Dict, error) {
	var out []*ordereddict.Dict
	var keys []string
	err := kv.Scan(messagesOf(org, user), func(k string, v []byte) error {
		if strings.Contains(strings.TrimPrefix(k, messagesOf(org, user)), "/") {
			return nil // another user's, whose name extends this one's
		}
		keys = append(keys, k)
		if d, err := value.DecodeJSON(v); err == nil {
			if row, ok := d.(*ordereddict.Dict); ok {
				out = append(out, row)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if clear {
		for _, k := range keys {
			if err := kv.Delete(k); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
