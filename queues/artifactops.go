package queues

import (
	"context"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
)

// The queues the server sends to about its own actions.
const (
	ArtifactModificationQueue = "Server.Internal.ArtifactModification"
	AuditQueue                = "Server.Audit.Logs"
	FlowCompletionQueue       = "System.Flow.Completion"
)

// SetArtifact adds or replaces a run-time artifact definition in an org.
// Its queues exist from this moment. The change is announced on
// Server.Internal.ArtifactModification and recorded in Server.Audit.Logs.
func (m *Manager) SetArtifact(ctx context.Context, org, text, principal string) (*artifacts.Artifact, error) {
	m.artifactMu.Lock()
	defer m.artifactMu.Unlock()
	var oldQueues []string
	if old, ok := m.repo.Get(org, nameOf(text)); ok {
		oldQueues = old.QueueNames()
	}
	a, err := m.repo.Set(org, text)
	if err != nil {
		return nil, err
	}
	m.closeQueues(org, missing(oldQueues, a.QueueNames()))
	m.announce(ctx, org, a.Name, "set", principal)
	return a, nil
}

// DeleteArtifact removes a run-time artifact; its queues close and their
// watchers end.
func (m *Manager) DeleteArtifact(ctx context.Context, org, name, principal string) error {
	m.artifactMu.Lock()
	defer m.artifactMu.Unlock()
	a, ok := m.repo.Get(org, name)
	if err := m.repo.Delete(org, name); err != nil {
		return err
	}
	if ok {
		// A definitions-folder artifact of the same name may show through
		// now: close only the queues that no longer exist.
		var still []string
		if b, ok := m.repo.Get(org, name); ok {
			still = b.QueueNames()
		}
		m.closeQueues(org, missing(a.QueueNames(), still))
	}
	m.announce(ctx, org, name, "delete", principal)
	return nil
}

// Audit records an auditable action in Server.Audit.Logs.
func (m *Manager) Audit(ctx context.Context, org, operation, principal string, details *ordereddict.Dict) error {
	_, err := m.Send(ctx, org, AuditQueue, ordereddict.NewDict().
		Set("operation", operation).Set("principal", principal).Set("details", details),
		Sender{Principal: principal, Internal: true})
	return err
}

func (m *Manager) announce(ctx context.Context, org, name, op, principal string) {
	internal := Sender{Principal: principal, Internal: true}
	_, _ = m.Send(ctx, org, ArtifactModificationQueue, ordereddict.NewDict().
		Set("artifact", name).Set("op", op).Set("principal", principal), internal)
	_ = m.Audit(ctx, org, "artifact_"+op, principal, ordereddict.NewDict().Set("artifact", name))
}

// nameOf reads the name of a definition without validating the rest.
func nameOf(text string) string {
	a, err := artifacts.Parse([]byte(text), "")
	if err != nil {
		return ""
	}
	return a.Name
}

func missing(old, now []string) []string {
	keep := map[string]bool{}
	for _, q := range now {
		keep[q] = true
	}
	var out []string
	for _, q := range old {
		if !keep[q] {
			out = append(out, q)
		}
	}
	return out
}
