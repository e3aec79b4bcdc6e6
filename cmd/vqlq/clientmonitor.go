package main

import (
	"fmt"

	"github.com/vqlq/vqlq/clienttable"
	"github.com/vqlq/vqlq/queues"
)

// addClientMonitoring puts the --client-monitor artifacts in the org's
// client event table, for every client. An artifact already there for
// every client keeps the parameters it was added with, so that starting
// the server again with the same flags changes nothing.
func addClientMonitoring(m *queues.Manager, org string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	table := clienttable.Of(m)
	entries, err := table.Entries(org)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, e := range entries {
		if e.Label == "" {
			have[e.Artifact] = true
		}
	}
	for _, name := range names {
		if have[name] {
			continue
		}
		if err := table.Add(org, clienttable.Entry{Artifact: name}); err != nil {
			return fmt.Errorf("--client-monitor %s: %w", name, err)
		}
		have[name] = true
	}
	return nil
}
