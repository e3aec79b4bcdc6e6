package forward

import (
	"context"
	"fmt"

	"github.com/vqlq/vqlq/queues"
)

// DeadLetters is the queue where forwarders store the documents a sink
// rejected for good, unless dead_letter= names another.
const DeadLetters = "Server.Forward.DeadLetters"

// deadLettersDefinition defines DeadLetters in an org the first time a
// forwarder runs there: it is not a built-in, so that the built-in queues
// stay Velociraptor's.
const deadLettersDefinition = `name: ` + DeadLetters + `
description: |
  Documents a forwarder (elastic_upload, splunk_upload, webhook_upload,
  logscale_upload, adx_upload) could not deliver because the sink rejected them for good (a mapping
  error, a 4xx), one event per document: sink (the forwarder and where
  it sends), id (the document id), queue and seq (the event it was made
  from), status (HTTP or per-document status; 0 when the forwarder gave
  up after max_retries), reason (the sink's answer) and row (the row as
  the forwarder received it). Each is stored before its event is
  acknowledged. Replay them, once the cause is fixed, with
  foreach(row={SELECT * FROM source(artifact='` + DeadLetters + `')}, column='row')
  as the query of the forwarder.
type: SERVER_EVENT
`

// ensureDeadLetters makes sure a forwarder can store its dead letters in
// queue before it reads a row: the default queue is defined in the org
// when it is missing (in the caller's name, as the audit log records
// it); any other must exist and take sends from the caller.
func ensureDeadLetters(ctx context.Context, m *queues.Manager, org, queue string, from queues.Sender) error {
	if _, ok := m.Repository().Get(org, queue); !ok && queue == DeadLetters {
		if _, err := m.SetArtifact(ctx, org, deadLettersDefinition, from.Principal); err != nil {
			return fmt.Errorf("defining %s: %w", queue, err)
		}
	}
	_, err := m.CheckSend(org, queue, from)
	return err
}
