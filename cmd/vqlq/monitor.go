package main

import (
	"context"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/runner"
)

// monitoringRun is the running server monitoring service of `vqlq serve`.
type monitoringRun struct{ stop func() }

// startMonitoring adds the --monitor artifacts to the table and starts
// every entry of it.
func startMonitoring(b *runner.Backend, m *queues.Manager, _ artifacts.Storage, names []string) (*monitoringRun, error) {
	svc, err := b.Monitoring()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	have := map[string]bool{}
	for _, e := range svc.List(b.Flags.Org) {
		have[e.Artifact] = true
	}
	for _, name := range names {
		if have[name] {
			continue // keep the parameters it was added with
		}
		if err := svc.Add(ctx, b.Flags.Org, name, nil); err != nil {
			return nil, err
		}
	}
	if err := svc.Start(ctx); err != nil {
		return nil, err
	}
	return &monitoringRun{stop: svc.Stop}, nil
}
